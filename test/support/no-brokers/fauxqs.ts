/** Stands in for the fauxqs package in unit tests: starting the emulator there is a mistake. */
export function startFauxqs(): never {
  throw new Error('unit tests run without brokers: fauxqs belongs in test/integration or test/contract');
}
