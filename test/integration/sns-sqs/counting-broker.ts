import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { SnsSqsBroker } from '../../../lib/sns-sqs/sns-sqs.broker.js';
import { fauxqsOptions, type Fauxqs, type FauxqsAppOptions } from '../../support/fauxqs.js';

const MUTATING = /^(Create|Set|Subscribe|Unsubscribe|Delete|Tag|Untag|Add|Remove|Purge|Put)/;

/** One SDK command a counting broker sent: its name without `Command`, and its input. */
export interface CountedCall {
  name: string;
  input: Record<string, unknown>;
}

/** A broker whose SNS and SQS clients record every command (name and input), to check which calls provisioning makes. */
export function countingBroker(
  fauxqs: Fauxqs,
  options: FauxqsAppOptions,
): { broker: SnsSqsBroker; calls: string[]; sent: CountedCall[]; mutatingCalls: () => CountedCall[]; mutating: () => string[] } {
  const broker = new SnsSqsBroker(resolveModuleOptions(fauxqsOptions(fauxqs, options)), { log() {}, warn() {}, error() {} });
  const calls: string[] = [];
  const sent: CountedCall[] = [];
  const { sns, sqs } = broker.unwrap();
  for (const client of [sns, sqs] as Array<{ middlewareStack: { add: Function } }>) {
    client.middlewareStack.add(
      (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: { input: Record<string, unknown> }) => {
          const command = context.commandName ?? 'unknown';
          calls.push(command);
          sent.push({ name: command.replace(/Command$/, ''), input: args.input });
          return next(args);
        },
      { step: 'initialize', name: 'countCommands' },
    );
  }
  const mutatingCalls = () => sent.filter((call) => MUTATING.test(call.name));
  return { broker, calls, sent, mutatingCalls, mutating: () => mutatingCalls().map((call) => call.name) };
}
