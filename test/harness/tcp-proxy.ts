/**
 * A TCP proxy on loopback that a test can cut: a process reaches its server through it, and the
 * test takes the network path away (connections that hang, or that are reset at once) and gives it
 * back. It forwards bytes only, so TLS stays end to end between the process and its server.
 */
import net from 'node:net';

/** `hang`: connections are accepted and never answered. `reset`: they are reset at once. */
export type CutMode = 'hang' | 'reset';

export interface TcpProxy {
  /** The port on 127.0.0.1 that forwards to the target. */
  port: number;
  /** Destroys every connection through the proxy; new ones then hang or are reset, by `mode`. */
  cut(mode: CutMode): void;
  /** Forwards new connections again; those held during the cut are closed, their bytes never sent on. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let cutMode: CutMode | undefined;
  const open = new Set<net.Socket>();
  const held = new Set<net.Socket>();
  const track = (s: net.Socket): net.Socket => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => s.destroy());
    return s;
  };
  const server = net.createServer((client) => {
    track(client);
    if (cutMode === 'reset') return void client.resetAndDestroy();
    if (cutMode === 'hang') return void held.add(client);
    const upstream = track(net.connect(target.port, target.host));
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const destroyAll = (sockets: Set<net.Socket>): void => {
    for (const s of [...sockets]) s.destroy();
    sockets.clear();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: (mode) => {
      cutMode = mode;
      destroyAll(open);
    },
    restore: () => {
      cutMode = undefined;
      destroyAll(held);
    },
    close: () => {
      destroyAll(open);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
