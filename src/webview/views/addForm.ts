// The form that adds a memory by hand.
import { h, textButton, setAttrs } from '../dom';
import { kindLabel, parseTags } from '../format';
import { MEMORY_KINDS, type MemoryKind } from '../../core/kinds';
import { t } from '../l10n';
import type { PanelState } from '../state';
import type { PanelContext, View } from './context';

export function createAddForm(ctx: PanelContext): View {
  const text = h('textarea', { className: 'input textarea', attrs: { rows: 3, placeholder: t('A fact worth remembering about this project'), 'aria-label': t('New memory text') } });
  const tags = h('input', { className: 'input', attrs: { type: 'text', placeholder: t('Tags, comma separated'), 'aria-label': t('New memory tags') } });
  const kind = h(
    'select',
    { className: 'select kind-select', attrs: { 'aria-label': t('New memory kind') } },
    h('option', { text: t('unlabelled'), attrs: { value: '' } }),
    ...MEMORY_KINDS.map((k) => h('option', { text: kindLabel(k.id), attrs: { value: k.id } })),
  );
  const close = (): void => ctx.dispatch({ type: 'toggleAdd', open: false });
  const submit = (): void => {
    if (!text.value.trim()) {
      ctx.dispatch({ type: 'error', message: t('A memory needs some text.') });
      text.focus();
      return;
    }
    ctx.post({ type: 'add', text: text.value, tags: parseTags(tags.value), ...(kind.value ? { kind: kind.value as MemoryKind } : {}) });
    text.value = '';
    tags.value = '';
    kind.value = '';
    close();
  };
  const form = h(
    'form',
    { className: 'add-form', attrs: { hidden: true, 'aria-label': t('Add a memory') } },
    text,
    tags,
    kind,
    h('div', { className: 'form-buttons' }, textButton(t('Add'), submit), textButton(t('Cancel'), close, true)),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape') close();
  });

  let open = false;
  return {
    root: form,
    render(s: PanelState) {
      setAttrs(form, { hidden: !s.adding });
      if (s.adding && !open) text.focus();
      open = s.adding;
    },
  };
}
