// Tiny DOM helpers. Data only ever reaches the page through textContent and attribute values,
// never through innerHTML, and event-handler attributes are refused.

type Child = Node | string | null | undefined | false;

export interface Props {
  className?: string;
  text?: string;
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.className) el.className = props.className;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.attrs) setAttrs(el, props.attrs);
  if (props.on) {
    for (const [name, fn] of Object.entries(props.on)) el.addEventListener(name, fn as EventListener);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function setAttrs(el: Element, attrs: Record<string, string | number | boolean | undefined>): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (/^on/i.test(name) || name.toLowerCase() === 'style') throw new Error(`refusing to set attribute ${name}`);
    if (value === undefined || value === false) el.removeAttribute(name);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
}

/** A codicon glyph; decorative, so hidden from screen readers. */
export function icon(name: string, extraClass = ''): HTMLElement {
  return h('span', { className: `codicon codicon-${name}${extraClass ? ' ' + extraClass : ''}`, attrs: { 'aria-hidden': 'true' } });
}

/** A toolbar-style icon button with an accessible label and a tooltip. */
export function iconButton(name: string, label: string, onClick: () => void, extra: Partial<Props> = {}): HTMLButtonElement {
  return h(
    'button',
    {
      className: `icon-button${extra.className ? ' ' + extra.className : ''}`,
      attrs: { type: 'button', 'aria-label': label, title: label, ...extra.attrs },
      on: { click: (e) => { e.stopPropagation(); onClick(); } },
    },
    icon(name),
  );
}

/** A text button (primary or secondary). */
export function textButton(label: string, onClick: () => void, secondary = false, iconName?: string): HTMLButtonElement {
  return h(
    'button',
    { className: secondary ? 'button secondary' : 'button', attrs: { type: 'button' }, on: { click: (e) => { e.stopPropagation(); onClick(); } } },
    iconName ? icon(iconName) : null,
    h('span', { text: label }),
  );
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}
