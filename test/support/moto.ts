import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closedPort } from './ports.js';
import { FAUXQS_CREDENTIALS, FAUXQS_REGION, type Fauxqs } from './fauxqs.js';
import { waitFor } from './wait-for.js';

/** moto's fixed account: queue and topic ARNs carry it. */
export const MOTO_ACCOUNT = '123456789012';

/** What `.ci/run` and the README say to install when moto_server is missing. */
export const MOTO_MISSING =
  'moto_server is not on PATH: the SNS+SQS tests run on moto 5.2.1 as a second emulator (pip install "moto[server]==5.2.1")';

/** Throws a clear error when moto_server cannot be run (checked once per process). */
let checked = false;
function requireMotoServer(): void {
  if (checked) return;
  const probe = spawnSync('moto_server', ['--help'], { stdio: 'ignore', timeout: 20_000 });
  if (probe.error || probe.status !== 0) throw new Error(MOTO_MISSING);
  checked = true;
}

/** Tries to start moto's server on a port nothing listens on; how many times when moto finds the port taken meanwhile. */
const START_ATTEMPTS = 3;

/**
 * Starts moto's server (SNS, SQS, S3, KMS) on a free port of 127.0.0.1, with SNS/SQS clients pointed at it; `stop()`
 * kills it by PID. The same shape as startFauxqs(), so a spec can run on either emulator.
 */
export async function startMoto(env: Record<string, string> = {}): Promise<Fauxqs> {
  requireMotoServer();
  for (let attempt = 1; ; attempt += 1) {
    const started = await spawnMoto(await closedPort(), env);
    if (started !== 'port taken') return motoClients(started);
    if (attempt === START_ATTEMPTS) throw new Error(`moto_server found its port taken ${START_ATTEMPTS} times in a row`);
  }
}

interface MotoProcess {
  endpoint: string;
  kill(): Promise<void>;
}

/**
 * Runs moto_server on `port` and waits until it answers; 'port taken' when another program bound the port first. Ready
 * only once moto said it runs on that port: until then an answer on the port may come from that other program.
 */
async function spawnMoto(port: number, env: Record<string, string>): Promise<MotoProcess | 'port taken'> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false', ...env },
  });
  let stderr = '';
  let bound = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    bound ||= stderr.includes(`Running on ${endpoint}`);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  let state: 'ready' | 'exited';
  try {
    state = await waitFor(
      async () => {
        if (child.exitCode !== null) return 'exited';
        if (!bound) return undefined;
        const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        return response?.ok ? 'ready' : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `moto_server to answer on ${endpoint}` },
    );
  } catch (error) {
    await kill();
    throw error;
  }
  if (state === 'exited') {
    await kill();
    if (/address already in use/i.test(stderr)) return 'port taken';
    throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
  }
  return { endpoint, kill };
}

/** SNS/SQS clients and module options for a running moto; stop() destroys the clients and kills moto. */
function motoClients({ endpoint, kill }: MotoProcess): Fauxqs {
  const config = { region: FAUXQS_REGION, endpoint, credentials: FAUXQS_CREDENTIALS };
  const sns = new SNSClient(config);
  const sqs = new SQSClient(config);
  return {
    endpoint,
    sns,
    sqs,
    snsSqs: { region: FAUXQS_REGION, endpoint, credentials: FAUXQS_CREDENTIALS, waitTimeSeconds: 1 },
    async stop() {
      sns.destroy();
      sqs.destroy();
      await kill();
    },
  };
}

/**
 * An IAM user with an access key in moto account `account` (12 digits), its inline policy `policy` (an IAM policy
 * document): requests signed with the key act as that account. Made through moto's account header, so it needs no
 * credentials of that account (with IAM enforcement, within INITIAL_NO_AUTH_ACTION_COUNT).
 */
/** The IAM calls motoAccessKey makes (user, its policy, its key): what INITIAL_NO_AUTH_ACTION_COUNT must let through per key. */
export const MOTO_IAM_CALLS_PER_KEY = 3;

export async function motoAccessKey(
  endpoint: string,
  account: string,
  user: string,
  policy: object,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const call = async (params: Record<string, string>) => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-moto-account-id': account,
        authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: new URLSearchParams({ ...params, Version: '2010-05-08' }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`moto IAM ${params.Action} failed: ${response.status} ${text}`);
    return text;
  };
  await call({ Action: 'CreateUser', UserName: user });
  await call({ Action: 'PutUserPolicy', UserName: user, PolicyName: 'test', PolicyDocument: JSON.stringify(policy) });
  const created = await call({ Action: 'CreateAccessKey', UserName: user });
  const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(created)?.[1];
  const accessKeyId = field('AccessKeyId');
  const secretAccessKey = field('SecretAccessKey');
  if (!accessKeyId || !secretAccessKey) throw new Error(`moto IAM CreateAccessKey answered without a key: ${created}`);
  return { accessKeyId, secretAccessKey };
}
