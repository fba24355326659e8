import { resolveModuleOptions } from '../../../lib/options-validation.js';
import { SnsSqsBroker } from '../../../lib/sns-sqs/sns-sqs.broker.js';
import { fauxqsOptions, type Fauxqs, type FauxqsAppOptions } from '../../support/fauxqs.js';

const MUTATING = /^(Create|Set|Subscribe|Unsubscribe|Delete|Tag|Untag|Add|Remove|Purge|Put)/;

/** A broker whose SNS and SQS clients record every command name, to check which calls provisioning makes. */
export function countingBroker(
  fauxqs: Fauxqs,
  options: FauxqsAppOptions,
): { broker: SnsSqsBroker; calls: string[]; mutating: () => string[] } {
  const broker = new SnsSqsBroker(resolveModuleOptions(fauxqsOptions(fauxqs, options)), { log() {}, warn() {}, error() {} });
  const calls: string[] = [];
  const { sns, sqs } = broker.unwrap();
  for (const client of [sns, sqs] as Array<{ middlewareStack: { add: Function } }>) {
    client.middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        calls.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
  }
  return { broker, calls, mutating: () => calls.map((c) => c.replace(/Command$/, '')).filter((c) => MUTATING.test(c)) };
}
