#!/usr/bin/env node
/** Entry point: flags and environment -> wiring. Mistakes end in one clear line and a non-zero exit. */
import { parseSettings, usage, UsageError } from './config.js';
import { csvUsage, exportCsv, parseCsvArgs } from './consumption-csv.js';
import { cacheTransforms, operatorIdentity, registerControllers } from './controllers/index.js';
import { OPERATOR } from './controllers/labels.js';
import { KubeClient } from './runtime/kube.js';
import { errorMessage, rootLogger, setLogLevel } from './runtime/log.js';
import { Manager } from './runtime/manager.js';

const log = rootLogger.child({ logger: OPERATOR });

function fail(message: string, code: number): never {
  process.stderr.write(`${OPERATOR}: ${message}\n`);
  process.exit(code);
}

/** `consumption-csv`: the ledger of a month as CSV on stdout; nothing else runs. */
async function consumptionCsv(argv: string[]): Promise<void> {
  let req;
  try {
    req = parseCsvArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) fail(`consumption-csv: ${e.message} (see --help)`, 2);
    throw e;
  }
  if (req === 'help') return void process.stdout.write(csvUsage);
  const client = KubeClient.load({ kubeconfig: req.kubeconfig, userAgent: `${OPERATOR} consumption-csv` });
  try {
    process.stdout.write(await exportCsv(client, req));
  } catch (e) {
    fail(`consumption-csv: ${errorMessage(e)}`, 1);
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'consumption-csv') return consumptionCsv(process.argv.slice(3));
  let parsed;
  try {
    parsed = parseSettings(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message} (see --help)`, 2);
    throw e;
  }
  if (parsed === 'help') {
    process.stdout.write(usage);
    return;
  }
  const settings = parsed;
  setLogLevel(settings.logLevel);
  let client: KubeClient;
  try {
    // The identity in the user agent tells replicas apart in the API server's audit log.
    client = KubeClient.load({
      kubeconfig: settings.kubeconfig,
      userAgent: `${OPERATOR} (${settings.identity})`,
    });
  } catch (e) {
    fail(`cannot load Kubernetes configuration: ${errorMessage(e)}`, 1);
  }
  try {
    const version = await client.request<{ gitVersion: string }>('GET', '/version', { timeoutMs: 10_000 });
    log.info('connected to the Kubernetes API server', {
      server: client.server,
      version: version.gitVersion,
    });
  } catch (e) {
    fail(`cannot reach the Kubernetes API server at ${client.server}: ${errorMessage(e)}`, 1);
  }
  const manager = new Manager({
    client,
    logger: log,
    transforms: cacheTransforms,
    ...settings,
    ...operatorIdentity,
  });
  registerControllers(manager, settings);
  const shutdown = (signal: string): void => {
    log.info('signal received', { signal });
    void manager.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // A promise nobody awaited failed: the process state is unknown; Kubernetes restarts it cleanly.
  process.on('unhandledRejection', (e) => {
    log.error('unhandled rejection: exiting', { error: errorMessage(e) });
    process.exit(1);
  });
  try {
    await manager.start();
  } catch (e) {
    fail(`cannot start: ${errorMessage(e)}`, 1);
  }
  log.info('operator started', {
    leaderElection: settings.leaderElection,
    namespace: settings.namespace,
  });
}

void main();
