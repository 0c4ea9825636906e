// The progress bar, the error banner and the notice line.
import { h, icon, iconButton, setAttrs } from '../dom';
import { t } from '../l10n';
import type { PanelState } from '../state';
import type { PanelContext } from './context';

export interface Banners {
  readonly progress: HTMLElement;
  readonly error: HTMLElement;
  readonly notice: HTMLElement;
  render(state: PanelState): void;
}

export function createBanners(ctx: PanelContext): Banners {
  const progress = h('div', { className: 'progress', attrs: { role: 'progressbar', 'aria-label': t('Working'), hidden: true } });
  const error = h('div', { className: 'banner error', attrs: { role: 'alert', hidden: true } });
  const notice = h('div', { className: 'notice', attrs: { role: 'status', 'aria-live': 'polite' } });
  let shownError: PanelState['error'];

  return {
    progress,
    error,
    notice,
    render(s) {
      setAttrs(progress, { hidden: !s.busy });
      document.body.setAttribute('aria-busy', s.busy ? 'true' : 'false');
      if (s.error !== shownError) {
        shownError = s.error;
        if (s.error && !s.error.dismissed) {
          error.replaceChildren(icon('error'), h('span', { className: 'banner-text', text: s.error.message }), iconButton('close', t('Dismiss error'), () => ctx.dispatch({ type: 'dismissError' })));
        }
        setAttrs(error, { hidden: !s.error || s.error.dismissed });
      }
      const text = s.notice?.message ?? '';
      if (notice.textContent !== text) notice.textContent = text;
    },
  };
}
