import { Injectable, ValidationPipe, type ValidationError, type ValidationPipeOptions } from '@nestjs/common';
import { DeadLetterError } from '../errors.js';

/**
 * ValidationPipe for messaging handlers: a payload that fails validation will fail on every retry, so it goes
 * straight to the dead-letter queue with the validation messages as its reason. (A plain ValidationPipe works too,
 * but its BadRequestException counts as an ordinary handler failure and is retried first.)
 */
@Injectable()
export class MessagingValidationPipe extends ValidationPipe {
  constructor(options: ValidationPipeOptions = {}) {
    super({
      transform: true,
      ...options,
      exceptionFactory:
        options.exceptionFactory ??
        ((errors: ValidationError[]) => new DeadLetterError(`payload failed validation: ${describeErrors(errors).join('; ')}`)),
    });
  }
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
