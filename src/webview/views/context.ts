// What a view part gets besides the state it renders: a way to act and a way to ask the host.
import type { PageMessage } from '../protocol';
import type { Action, PanelState } from '../state';

export interface PanelContext {
  /** Applies a user action to the state (and sends what it implies), then renders. */
  dispatch(action: Action): void;
  /** Sends a command to the host that changes no page state (pin, delete, undo, approve, …). */
  post(message: PageMessage): void;
  /** The state as last rendered, for event handlers. */
  state(): PanelState;
}

/** A part of the page: its root element, built once, and a render that brings it up to date. */
export interface View {
  readonly root: HTMLElement;
  render(state: PanelState): void;
}
