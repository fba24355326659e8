import type { ServerResponse } from 'node:http';
import {
  applyDecorators,
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  RequestMapping,
  RequestMethod,
  Req,
  Res,
  Sse,
  UseFilters,
  UseGuards,
  type CanActivate,
  type MessageEvent,
  type Type,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { ADMIN_ROUTES, checkRequest, type AdminRoute } from '../admin-schemas.js';
import type { Arguments } from '../admin-validation.js';
import { MessagingAdminService } from '../messaging-admin.service.js';
import { QueueOverviewService } from '../queue-overview.js';
import { AdminExceptionFilter } from './admin-exception.filter.js';
import { DASHBOARD_PAGE } from './dashboard-page.js';
import { openApiDocument } from './openapi-document.js';
import { SWAGGER_UI, SWAGGER_UI_PAGE, type SwaggerUi } from './swagger-ui.js';

const HTML = 'text/html; charset=utf-8';

/** What the checks read of an Express or Fastify request. */
type AdminRequest = Parameters<typeof checkRequest>[2];

/**
 * The REST API's controller class, mounted at `path` with `guard` on every endpoint (the dashboard, Swagger UI and
 * the event stream included). A class per module import, since the path and the guard are decorator arguments.
 */
export function adminController(path: string, guard: Type<CanActivate> | CanActivate | undefined): Type {
  let document: Record<string, unknown> | undefined;

  @Controller(path)
  @UseFilters(AdminExceptionFilter)
  class MessagingAdminController {
    constructor(
      @Inject(MessagingAdminService) private readonly admin: MessagingAdminService,
      @Inject(QueueOverviewService) private readonly queues: QueueOverviewService,
      @Inject(SWAGGER_UI) private readonly swaggerUi: SwaggerUi,
    ) {}

    /**
     * Every argument of the request where the route expects it and of its type for the transport of the connection it
     * names (query parameter `connection`; absent: the default connection), before any broker call (400 otherwise).
     */
    private check<A extends Arguments>(route: AdminRoute<A>, request: AdminRequest) {
      return checkRequest(route, this.admin.connection(request.query?.connection).transport, request);
    }

    @Get()
    @Header('content-type', HTML)
    dashboard() {
      return DASHBOARD_PAGE;
    }

    @Route(ADMIN_ROUTES.listConnections)
    listConnections(@Req() request: AdminRequest) {
      this.check(ADMIN_ROUTES.listConnections, request);
      return this.admin.listConnections();
    }

    @Route(ADMIN_ROUTES.overview)
    overview(@Req() request: AdminRequest) {
      return this.queues.overview(this.check(ADMIN_ROUTES.overview, request).connection);
    }

    /** Server-Sent Events: every event of the connection (event: its type, data: the event as JSON). */
    @Sse(ADMIN_ROUTES.events.path)
    events(@Req() request: AdminRequest): Observable<MessageEvent> {
      const { connection } = this.check(ADMIN_ROUTES.events, request);
      return this.admin.eventsOf(connection).pipe(map((event) => ({ type: event.type, data: event })));
    }

    @Get('openapi.json')
    openApi() {
      return (document ??= openApiDocument(path, this.admin.listConnections()));
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

    @Route(ADMIN_ROUTES.listQueues)
    listQueues(@Req() request: AdminRequest) {
      return this.admin.listQueues(this.check(ADMIN_ROUTES.listQueues, request));
    }

    @Route(ADMIN_ROUTES.createQueue)
    createQueue(@Req() request: AdminRequest) {
      const { name, ...options } = this.check(ADMIN_ROUTES.createQueue, request);
      return this.admin.createQueue(name, options);
    }

    @Route(ADMIN_ROUTES.queueInfo)
    queueInfo(@Req() request: AdminRequest) {
      const { name, ...options } = this.check(ADMIN_ROUTES.queueInfo, request);
      return this.admin.queueInfo(name, options);
    }

    @Route(ADMIN_ROUTES.deleteQueue)
    async deleteQueue(@Req() request: AdminRequest) {
      const { name, ...options } = this.check(ADMIN_ROUTES.deleteQueue, request);
      await this.admin.deleteQueue(name, options);
    }

    @Route(ADMIN_ROUTES.sendToQueue)
    sendToQueue(@Req() request: AdminRequest) {
      const { name, data, ...options } = this.check(ADMIN_ROUTES.sendToQueue, request);
      return this.admin.sendToQueue(name, data, options);
    }

    @Route(ADMIN_ROUTES.peek)
    peek(@Req() request: AdminRequest) {
      const { name, ...options } = this.check(ADMIN_ROUTES.peek, request);
      return this.admin.peek(name, options);
    }

    @Route(ADMIN_ROUTES.purge)
    async purge(@Req() request: AdminRequest) {
      const { name, ...options } = this.check(ADMIN_ROUTES.purge, request);
      await this.admin.purge(name, options);
    }

    @Route(ADMIN_ROUTES.redrive)
    redrive(@Req() request: AdminRequest, @Res({ passthrough: true }) response: unknown) {
      const { name, ...options } = this.check(ADMIN_ROUTES.redrive, request);
      return this.admin.redrive(name, { ...options, signal: abortedWhenClosed(response) });
    }

    @Route(ADMIN_ROUTES.listTopics)
    listTopics(@Req() request: AdminRequest) {
      return this.admin.listTopics(this.check(ADMIN_ROUTES.listTopics, request));
    }

    @Route(ADMIN_ROUTES.createTopic)
    createTopic(@Req() request: AdminRequest) {
      const { name, ...options } = this.check(ADMIN_ROUTES.createTopic, request);
      return this.admin.createTopic(name, options);
    }

    @Route(ADMIN_ROUTES.topicInfo)
    topicInfo(@Req() request: AdminRequest) {
      const { topic, ...options } = this.check(ADMIN_ROUTES.topicInfo, request);
      return this.admin.topicInfo(topic, options);
    }

    @Route(ADMIN_ROUTES.deleteTopic)
    async deleteTopic(@Req() request: AdminRequest) {
      const { topic, ...options } = this.check(ADMIN_ROUTES.deleteTopic, request);
      await this.admin.deleteTopic(topic, options);
    }

    @Route(ADMIN_ROUTES.publish)
    publish(@Req() request: AdminRequest) {
      const { topic, data, ...options } = this.check(ADMIN_ROUTES.publish, request);
      return this.admin.publish(topic, data, options);
    }

    @Route(ADMIN_ROUTES.subscribe)
    subscribe(@Req() request: AdminRequest) {
      const { topic, queue, ...options } = this.check(ADMIN_ROUTES.subscribe, request);
      return this.admin.subscribe(topic, queue, options);
    }

    @Route(ADMIN_ROUTES.unsubscribe)
    async unsubscribe(@Req() request: AdminRequest) {
      const { id, ...options } = this.check(ADMIN_ROUTES.unsubscribe, request);
      await this.admin.unsubscribe(id, options);
    }
  }
  if (guard) UseGuards(guard)(MessagingAdminController);
  return MessagingAdminController;
}

/** The route's method, path and success status, from its record. */
function Route(route: AdminRoute): MethodDecorator {
  return applyDecorators(RequestMapping({ path: route.path, method: RequestMethod[route.method] }), HttpCode(route.answer.status));
}

/**
 * Aborted when the HTTP connection closes before the response was sent (the client gave up or went away), so that a
 * long operation stops instead of running on for nobody. `response` is Express's response or Fastify's reply.
 */
function abortedWhenClosed(response: unknown): AbortSignal {
  const raw = (response as { raw?: ServerResponse }).raw ?? (response as ServerResponse);
  const controller = new AbortController();
  const abort = () => controller.abort(new Error('the HTTP request was closed before the answer was sent'));
  if (raw.destroyed && !raw.writableFinished) abort();
  else raw.once('close', () => !raw.writableFinished && abort());
  return controller.signal;
}
