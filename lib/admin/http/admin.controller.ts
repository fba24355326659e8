import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Sse,
  UseFilters,
  UseGuards,
  type CanActivate,
  type MessageEvent,
  type Type,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { AdminInvalidArgumentError } from '../admin.errors.js';
import type { CreateQueueOptions, SubscribeOptions } from '../admin.types.js';
import { MessagingAdminService } from '../messaging-admin.service.js';
import { QueueOverviewService } from '../queue-overview.js';
import { AccessTokenFromQueryGuard } from './access-token-from-query.guard.js';
import { AdminExceptionFilter } from './admin-exception.filter.js';
import { DASHBOARD_PAGE } from './dashboard-page.js';
import { openApiDocument } from './openapi-document.js';
import { SWAGGER_UI, SWAGGER_UI_PAGE, type SwaggerUi } from './swagger-ui.js';

const HTML = 'text/html; charset=utf-8';

type JsonBody = Record<string, unknown> | undefined;

/**
 * The REST API's controller class, mounted at `path` with `guard` on every endpoint (the dashboard, Swagger UI and
 * the event stream included). A class per module import, since the path and the guard are decorator arguments.
 */
export function adminController(path: string, guard: Type<CanActivate> | CanActivate | undefined): Type {
  const document = openApiDocument(path);

  @Controller(path)
  @UseFilters(AdminExceptionFilter)
  class MessagingAdminController {
    constructor(
      @Inject(MessagingAdminService) private readonly admin: MessagingAdminService,
      @Inject(QueueOverviewService) private readonly queues: QueueOverviewService,
      @Inject(SWAGGER_UI) private readonly swaggerUi: SwaggerUi,
    ) {}

    @Get()
    @Header('content-type', HTML)
    @Header('cache-control', 'no-store')
    dashboard() {
      return DASHBOARD_PAGE;
    }

    @Get('overview')
    overview() {
      return this.queues.overview();
    }

    /** Server-Sent Events: every event of events$ (event: its type, data: the event as JSON). */
    @Sse('events')
    events(): Observable<MessageEvent> {
      return this.admin.events$.pipe(map((event) => ({ type: event.type, data: event })));
    }

    @Get('openapi.json')
    openApi() {
      return document;
    }

    @Get('docs')
    @Header('content-type', HTML)
    async docs() {
      await this.swaggerUi.files(); // 501 naming swagger-ui-dist when it is missing
      return SWAGGER_UI_PAGE;
    }

    @Get('docs/swagger-ui-bundle.js')
    @Header('content-type', 'text/javascript; charset=utf-8')
    async docsScript() {
      return (await this.swaggerUi.files()).script;
    }

    @Get('docs/swagger-ui.css')
    @Header('content-type', 'text/css; charset=utf-8')
    async docsStyle() {
      return (await this.swaggerUi.files()).style;
    }

    @Get('queues')
    listQueues(@Query('prefix') prefix?: string) {
      return this.admin.listQueues({ prefix });
    }

    @Post('queues')
    createQueue(@Body() body: JsonBody) {
      const { name, ...options } = object(body);
      return this.admin.createQueue(name as string, options as CreateQueueOptions);
    }

    @Get('queues/:name')
    queueInfo(@Param('name') name: string) {
      return this.admin.queueInfo(name);
    }

    @Delete('queues/:name')
    @HttpCode(204)
    async deleteQueue(@Param('name') name: string) {
      await this.admin.deleteQueue(name);
    }

    @Post('queues/:name/messages')
    sendToQueue(@Param('name') name: string, @Body() body: JsonBody) {
      const { data, ...options } = object(body);
      return this.admin.sendToQueue(name, data, options);
    }

    @Post('queues/:name/peek')
    @HttpCode(200)
    peek(@Param('name') name: string, @Body() body: JsonBody, @Query('max') max?: string) {
      return this.admin.peek(name, { max: integer(object(body).max ?? max, 'max') });
    }

    @Post('queues/:name/purge')
    @HttpCode(204)
    async purge(@Param('name') name: string) {
      await this.admin.purge(name);
    }

    @Post('queues/:name/redrive')
    @HttpCode(200)
    redrive(@Param('name') name: string, @Body() body: JsonBody) {
      const { max, to } = object(body);
      return this.admin.redrive(name, { max: integer(max, 'max'), to: to as string | undefined });
    }

    @Get('topics')
    listTopics(@Query('prefix') prefix?: string) {
      return this.admin.listTopics({ prefix });
    }

    @Post('topics')
    createTopic(@Body() body: JsonBody) {
      const { name, fifo } = object(body);
      return this.admin.createTopic(name as string, { fifo: fifo as boolean | undefined });
    }

    @Get('topics/:topic')
    topicInfo(@Param('topic') topic: string) {
      return this.admin.topicInfo(topic);
    }

    @Delete('topics/:topic')
    @HttpCode(204)
    async deleteTopic(@Param('topic') topic: string) {
      await this.admin.deleteTopic(topic);
    }

    @Post('topics/:topic/messages')
    publish(@Param('topic') topic: string, @Body() body: JsonBody) {
      const { data, ...options } = object(body);
      return this.admin.publish(topic, data, options);
    }

    @Post('subscriptions')
    subscribe(@Body() body: JsonBody) {
      const { topic, queue, ...options } = object(body);
      return this.admin.subscribe(topic as string, queue as string, options as SubscribeOptions);
    }

    @Delete('subscriptions/:id')
    @HttpCode(204)
    async unsubscribe(@Param('id') id: string) {
      await this.admin.unsubscribe(id);
    }
  }
  if (guard) UseGuards(AccessTokenFromQueryGuard, guard)(MessagingAdminController);
  return MessagingAdminController;
}

function object(body: JsonBody): Record<string, any> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new AdminInvalidArgumentError('request body', 'must be a JSON object', body);
  return body;
}

/** A query-string or JSON number. */
function integer(value: unknown, argument: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new AdminInvalidArgumentError(argument, 'must be an integer', value);
  return n;
}
