/** Types of rabbitmq-run.mjs (plain ESM so that jest's globalSetup / globalTeardown can load it). */
export declare const RUN_ENV: 'NESTJS_MESSAGING_TEST_RUN';
export declare const RUN_DIR_ENV: 'NESTJS_MESSAGING_TEST_RUN_DIR';

export interface NodeInfo {
  /** Short name, also the name of its directory. */
  name: string;
  /** Erlang node name, for `rabbitmqctl -n`. */
  nodeName: string;
  dir: string;
  /** Its AMQP port on 127.0.0.1. */
  port: number;
  /** amqp://guest:guest@127.0.0.1:<port> */
  url: string;
}

export declare function rabbitmqctl(args: string[], timeoutMs?: number): Promise<string>;
export declare function nodectl(nodeName: string, args: string[], timeoutMs?: number): Promise<string>;
export declare function createRunDir(runId: string): string;
export declare function startNode(runDir: string): Promise<NodeInfo>;
export declare function stopNode(dir: string): Promise<void>;
export declare function sharedNode(runDir: string): Promise<NodeInfo>;
export declare function stopRunNodes(runDir: string): Promise<void>;
export declare function reapAbandonedRuns(): Promise<string[]>;
export declare function brokerResources(): Promise<string[]>;
export declare function deleteResources(resources: string[], amqpUrl: string): Promise<void>;
