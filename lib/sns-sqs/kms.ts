import type { KmsKeySetting } from '../messaging.options.js';

/** undefined/null: leave as is; '' or false: disable (''); a string: that key. */
export function kmsValue(setting: KmsKeySetting): string | undefined {
  if (setting === undefined || setting === null) return undefined;
  if (setting === false) return '';
  return setting;
}
