// Batches the destructive-run guard held back, each with Approve and Reject.
import { h, icon, setAttrs, textButton } from '../dom';
import { t } from '../l10n';
import type { PanelState } from '../state';
import type { PanelContext, View } from './context';

export function createPending(ctx: PanelContext): View {
  const section = h('section', { className: 'pending', attrs: { hidden: true, 'aria-label': t('Operations held for approval') } });
  let shown: PanelState['pending'] | undefined;
  return {
    root: section,
    render(s: PanelState) {
      if (s.pending === shown) return;
      shown = s.pending;
      section.replaceChildren();
      setAttrs(section, { hidden: s.pending.length === 0 });
      if (!s.pending.length) return;
      section.append(h('h2', { className: 'section-title' }, icon('warning'), h('span', { text: t('Held for approval ({0})', s.pending.length) })));
      for (const b of s.pending) {
        const ops = h('ul', { className: 'pending-ops' }, ...b.ops.map((op) => h('li', {}, h('span', { className: `badge action action-${op.type}`, text: op.type }), h('span', { text: op.text ?? op.memoryId ?? '' }))));
        section.append(
          h(
            'div',
            { className: 'pending-batch' },
            h('div', { className: 'pending-reason', text: b.reason }),
            b.fact ? h('div', { className: 'hint', text: t('From: {0}', b.fact) }) : null,
            ops,
            h(
              'div',
              { className: 'form-buttons' },
              textButton(t('Approve'), () => ctx.post({ type: 'approve', batchId: b.id }), false, 'check'),
              textButton(t('Reject'), () => ctx.post({ type: 'reject', batchId: b.id }), true, 'close'),
            ),
          ),
        );
      }
    },
  };
}
