import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { describeError } from '../../error-text.js';
import { loginPage } from './login-page.js';
import { MessagingOptionsError, MissingDependencyError, PublishError } from '../../errors.js';
import {
  AdminBrokerFailedError,
  AdminBrokerRefusedError,
  AdminPeekSpendsReceiveError,
  AdminBrokerUnavailableError,
  AdminConflictError,
  AdminInvalidArgumentError,
  AdminOperationUnavailableError,
  AdminResourceNotFoundError,
} from '../../transport/admin.errors.js';

/**
 * Admin errors as HTTP statuses: 404 missing resource, 400 bad argument, 409 conflict or broker refusal, 501
 * unavailable, 502 broker failure, 503 broker unreachable, else 500.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('MessagingAdmin');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if ((status === HttpStatus.UNAUTHORIZED || status === HttpStatus.FORBIDDEN) && opensPage(host)) {
        httpAdapter.setHeader(response, 'content-type', 'text/html; charset=utf-8');
        httpAdapter.reply(response, loginPage(status, describeError(exception)), status);
        return;
      }
      httpAdapter.reply(response, exception.getResponse(), status);
      return;
    }
    const status = statusOf(exception);
    if (status >= 500 && status !== HttpStatus.NOT_IMPLEMENTED) this.logger.error(`Admin operation failed: ${describeError(exception)}`);
    httpAdapter.reply(
      response,
      { statusCode: status, error: (exception as Error | undefined)?.name ?? 'Error', message: describeError(exception) },
      status,
    );
  }
}

/** A browser navigating (GET, wants HTML) rather than a script calling the JSON API. */
function opensPage(host: ArgumentsHost): boolean {
  const request = host.switchToHttp().getRequest<{ method?: string; headers?: Record<string, unknown> }>();
  return request.method === 'GET' && String(request.headers?.accept ?? '').includes('text/html');
}

function statusOf(error: unknown): number {
  if (error instanceof AdminResourceNotFoundError) return HttpStatus.NOT_FOUND;
  if (error instanceof AdminInvalidArgumentError || error instanceof MessagingOptionsError || error instanceof PublishError)
    return HttpStatus.BAD_REQUEST;
  if (error instanceof AdminConflictError || error instanceof AdminBrokerRefusedError || error instanceof AdminPeekSpendsReceiveError)
    return HttpStatus.CONFLICT;
  if (error instanceof AdminBrokerFailedError) return HttpStatus.BAD_GATEWAY;
  if (error instanceof AdminBrokerUnavailableError) return HttpStatus.SERVICE_UNAVAILABLE;
  if (error instanceof AdminOperationUnavailableError || error instanceof MissingDependencyError) return HttpStatus.NOT_IMPLEMENTED;
  return HttpStatus.INTERNAL_SERVER_ERROR;
}
