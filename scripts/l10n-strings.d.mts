export function webviewStrings(root: string, dir?: string): { strings: Map<string, string[]>; errors: string[] };
