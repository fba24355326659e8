/** An OpenTelemetry SDK set up as an application would, with an exporter that discards every span. */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

class DiscardingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exported += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

/**
 * Registers a global tracer provider (batching span processor, as in production, flushing every 200 ms so that
 * spans are exported rather than dropped from a full queue) and the AsyncLocalStorage context manager.
 */
export function installDiscardingTracer(): { exporter: DiscardingExporter; shutdown: () => Promise<void> } {
  const exporter = new DiscardingExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 200, maxQueueSize: 8192, maxExportBatchSize: 1024 })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { exporter, shutdown: () => provider.shutdown() };
}
