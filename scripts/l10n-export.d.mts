export function englishBundle(root?: string): Record<string, string>;
