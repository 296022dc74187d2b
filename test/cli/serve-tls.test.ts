/**
 * `parley serve` with SIP over TLS, as an operator runs it: the certificate files named on
 * the command line are served, and SIGHUP reads them again (a renewed certificate) without a
 * restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CERTS = path.join(ROOT, 'test/fixtures/tls');
const fingerprint = (file: string): string =>
  new crypto.X509Certificate(readFileSync(path.join(CERTS, file))).fingerprint256;

function peerCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe('parley serve --sip-tls-port', () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the certificate files given and reads them again on SIGHUP', { timeout: 30_000 }, async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'parley-serve-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    copyFileSync(path.join(CERTS, 'server.pem'), cert);
    copyFileSync(path.join(CERTS, 'server-key.pem'), key);
    child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin/parley.js'),
        'serve',
        path.join(ROOT, 'conferences'),
        '--sip-port',
        '0',
        '--rtp-ports',
        '13000-13099',
        '--http',
        'none',
        '--recordings',
        path.join(dir, 'recordings'),
        '--sip-tls-port',
        '0',
        '--sip-tls-cert',
        cert,
        '--sip-tls-key',
        key,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const tlsPort = await new Promise<number>((resolve, reject) => {
      child?.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = / and (\d+) \(TLS\)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child?.on('exit', (code) => reject(new Error(`parley serve exited with ${code}: ${stderr}`)));
    });
    /** Waits up to 10 s for the server's log to say `text`. */
    const logged = async (text: string): Promise<void> => {
      for (const deadline = Date.now() + 10_000; !stdout.includes(text) && Date.now() < deadline; )
        await new Promise((r) => setTimeout(r, 50));
      expect(stdout).toContain(text);
    };
    expect(stderr).toContain('Reload (configuration and TLS certificate) with SIGHUP');
    expect(await peerCertificate(tlsPort)).toBe(fingerprint('server.pem'));

    // The certificate is renewed on disk, then the operator sends SIGHUP.
    copyFileSync(path.join(CERTS, 'self-signed.pem'), cert);
    copyFileSync(path.join(CERTS, 'self-signed-key.pem'), key);
    child.kill('SIGHUP');
    await logged('sip tls certificate reloaded');
    expect(await peerCertificate(tlsPort)).toBe(fingerprint('self-signed.pem'));

    // A broken renewal (the key of another certificate) keeps the last good one in use.
    copyFileSync(path.join(CERTS, 'server-key.pem'), key);
    child.kill('SIGHUP');
    await logged('sip tls certificate not reloaded; the old one stays in use');
    expect(await peerCertificate(tlsPort)).toBe(fingerprint('self-signed.pem'));
  });
});
