import { BankError } from '../../errors';
import { FileStorage } from './fileStorage';
import type { BankStorage, StorageOption } from './types';

export type { BankStorage, StorageOption, StorageTx, RecordBatch, VectorBatch, SideLogName, SideDocName } from './types';
export { FileStorage } from './fileStorage';

/**
 * The option for a team's shared bank. Anything but a postgres URL is refused, without repeating the
 * value: a mistyped URL may still hold a password.
 */
export function sharedBankStorage(url: string, bankId: string, poolSize?: number): StorageOption {
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new BankError('INVALID_INPUT', 'A shared bank needs a postgres:// (or postgresql://) URL.');
  return poolSize ? { kind: 'postgres', url, bankId, poolSize } : { kind: 'postgres', url, bankId };
}

/**
 * The store `MemoryBank.open` uses for `folder` and the `storage` option (default: files in
 * `folder`). The postgres store is imported only when asked for, so `pg` is never loaded otherwise.
 */
export async function createStorage(folder: string, option: StorageOption | undefined, vectorFileName: string): Promise<BankStorage> {
  if (option === undefined || option === 'file') return new FileStorage(folder, vectorFileName);
  if (typeof option === 'object' && option.kind === 'postgres') {
    const { PgStorage } = await import('./pgStorage');
    return new PgStorage(option.url, option.bankId, option.poolSize);
  }
  throw new Error(`unknown bank storage ${JSON.stringify(option)}`);
}
