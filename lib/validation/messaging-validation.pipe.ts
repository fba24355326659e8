import {
  Injectable,
  ValidationPipe,
  type ArgumentMetadata,
  type Type,
  type ValidationError,
  type ValidationPipeOptions,
} from '@nestjs/common';
import { DeadLetterError, InvalidElementsError } from '../errors.js';

export interface MessagingValidationPipeOptions extends ValidationPipeOptions {
  /**
   * A batch handler's payload array: the class each element is validated (and transformed) as. An element that fails
   * sends its own message to the dead-letter queue; the handler gets the others.
   */
  items?: Type<unknown>;
}

/**
 * ValidationPipe for messaging handlers: a payload that fails validation will fail on every retry, so it goes
 * straight to the dead-letter queue with the validation messages as its reason. (A plain ValidationPipe works too,
 * but its BadRequestException counts as an ordinary handler failure and is retried first.) With `items`, each element
 * of an array payload is validated on its own (see InvalidElementsError).
 */
@Injectable()
export class MessagingValidationPipe extends ValidationPipe {
  private readonly items?: Type<unknown>;

  constructor(options: MessagingValidationPipeOptions = {}) {
    const { items, ...validation } = options;
    super({
      transform: true,
      ...validation,
      exceptionFactory:
        validation.exceptionFactory ??
        ((errors: ValidationError[]) => new DeadLetterError(`payload failed validation: ${describeErrors(errors).join('; ')}`)),
    });
    this.items = items;
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const items = this.items;
    if (items === undefined || !Array.isArray(value)) return super.transform(value, metadata);
    const settled = await Promise.allSettled(value.map((element) => super.transform(element, { ...metadata, metatype: items })));
    const invalid = settled.flatMap((result, index) => (result.status === 'rejected' ? [{ index, reason: reasonOf(result.reason) }] : []));
    if (invalid.length > 0) throw new InvalidElementsError(invalid);
    return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value);
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof DeadLetterError) return error.reason.replace(/^payload failed validation: /, '');
  return error instanceof Error ? error.message : String(error);
}

function describeErrors(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((error) => {
    const property = path ? `${path}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(error.property) ? `${path ? `${path}.` : ''}${message}` : `${property}: ${message}`,
    );
    return [...own, ...describeErrors(error.children ?? [], property)];
  });
}
