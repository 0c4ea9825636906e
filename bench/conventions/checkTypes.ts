// What a convention check is and what it finds (shared by the Python and TypeScript checkers' callers).

export interface CodeCheck {
  check: string;
  pattern?: string;
  name?: string;
  module?: string;
  style?: string;
}

export interface CheckResult {
  ok: boolean;
  why: string;
}
