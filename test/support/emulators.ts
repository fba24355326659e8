import { startFauxqs, type Fauxqs } from './fauxqs.js';
import { startMoto } from './moto.js';

/** Starts an SNS+SQS emulator of its own (stop() ends it). */
export type StartEmulator = () => Promise<Fauxqs>;

/**
 * The SNS+SQS emulators a spec can run on, for `describe.each(SNS_SQS_EMULATORS)('... (%s)', (_name, start) => ...)`:
 * fauxqs in-process, and moto's server (closer to AWS in places: several messages of one FIFO group per receive, empty
 * attribute values refused, a cancelled long poll strands the message it takes).
 */
export const SNS_SQS_EMULATORS: ReadonlyArray<readonly [name: string, start: StartEmulator]> = [
  ['fauxqs', startFauxqs],
  ['moto', startMoto],
];
