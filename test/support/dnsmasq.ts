/**
 * dnsmasq as a real DNS server on loopback for tests: NAPTR, SRV and A records given on its
 * command line, everything else under `.test` answered NXDOMAIN, nothing forwarded, no
 * hosts file, no DHCP. One instance per test file, on a free UDP port.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';

const BINARY = '/usr/sbin/dnsmasq';

/**
 * True when dnsmasq can run. Without it, tests skip with a loud reason, except under CI
 * where a missing dnsmasq is a failure (the CI image must have it).
 */
export function haveDnsmasq(): boolean {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (!probe.error && probe.status === 0) return true;
  if (process.env.CI)
    throw new Error('dnsmasq is required under CI: install it with scripts/install-debian-deps.sh');
  console.warn('\n*** SKIPPING DNS tests: dnsmasq not found; run scripts/install-debian-deps.sh ***\n');
  return false;
}

export interface DnsRecords {
  /** `name,order,preference,flags,service,regexp,replacement` (dnsmasq --naptr-record). */
  naptr?: string[];
  /** `_service._proto.name,target,port,priority,weight` (dnsmasq --srv-host). */
  srv?: string[];
  /** `name,address` (dnsmasq --host-record). */
  hosts?: string[];
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

export class Dnsmasq {
  private constructor(
    private readonly child: ChildProcess,
    /** `127.0.0.1:PORT`, for a resolver's server list. */
    readonly server: string,
    private readonly log: () => string,
  ) {}

  static async start(records: DnsRecords): Promise<Dnsmasq> {
    for (let attempt = 0; ; attempt++) {
      const port = await freeUdpPort();
      const args = [
        '--keep-in-foreground',
        `--port=${port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--no-resolv',
        '--no-hosts',
        '--no-poll',
        '--conf-file=/dev/null',
        '--pid-file=',
        '--log-facility=-',
        '--local=/test/',
        ...(records.naptr ?? []).map((r) => `--naptr-record=${r}`),
        ...(records.srv ?? []).map((r) => `--srv-host=${r}`),
        ...(records.hosts ?? []).map((r) => `--host-record=${r}`),
      ];
      const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        output += d.toString();
      });
      const ready = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), 3000);
        const check = (): void => {
          if (/started, version/.test(output)) {
            clearTimeout(timer);
            resolve(true);
          }
        };
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (ready && child.exitCode === null) return new Dnsmasq(child, `127.0.0.1:${port}`, () => output);
      // The port was taken in between: try another.
      if (attempt >= 4) throw new Error(`dnsmasq did not start:\n${output}`);
    }
  }

  logTail(): string {
    return this.log().slice(-3000);
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
