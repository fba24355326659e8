import { MessagingError } from './errors.js';

/**
 * A readable one-line description of anything thrown: an Error's message (with its name when that says more than
 * "Error", e.g. an AWS `AccessDenied`; our own errors' messages say it all), an HttpException's messages, a thrown
 * string or a plain object as JSON.
 */
export function describeError(error: unknown): string {
  if (typeof error === 'string') return error;
  const httpResponse = (error as { getResponse?: () => unknown } | null)?.getResponse;
  if (typeof httpResponse === 'function') {
    const message = (httpResponse.call(error) as { message?: unknown } | null)?.message;
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string') return message;
  }
  if (error instanceof Error) {
    return error instanceof MessagingError || !error.name || error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
  }
  if (typeof error === 'object' && error !== null) {
    if (typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
    try {
      const json = JSON.stringify(error);
      if (json !== undefined && json !== '{}') return json;
    } catch {
      // a cycle or a BigInt: fall through to String()
    }
  }
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}
