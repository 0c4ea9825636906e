// A child process that scrubs a bank (for the crash test, which SIGKILLs it at random moments).
// Usage: node scrubChild.cjs <bankDir>; prints DONE once the scrub returned.
import { scrubFileBank } from '../../src/core/bank/scrub';

scrubFileBank(process.argv[2], { apply: true, actor: 'crash-test' }).then(
  () => process.stdout.write('DONE\n'),
  (err) => {
    process.stderr.write(String(err) + '\n');
    process.exitCode = 1;
  },
);
