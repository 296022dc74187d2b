/**
 * The management page in Debian's headless Chromium (playwright-core, never a
 * downloaded browser) against a real server with two baresip callers: one sends a
 * tone, the other silence. The page lists the conference with both, the talking
 * indicator is on for the one with the tone only, and its Mute button mutes it.
 * A screenshot is written to test/web/artifacts/management.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Live, startLive, TOKEN, until } from '../api/live.js';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, 'artifacts');

function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI)
    throw new Error(`${CHROMIUM} is required under CI: scripts/install-debian-deps.sh installs it`);
  console.warn(
    `\n*** SKIPPING the browser test: ${CHROMIUM} not found; run scripts/install-debian-deps.sh ***\n`,
  );
  return false;
}

const enabled = haveBaresip() && haveChromium();

describe.skipIf(!enabled)('management page in headless Chromium', () => {
  let live: Live;
  let context: BrowserContext;
  let profile: string;
  let talker: Baresip;
  let quiet: Baresip;

  beforeAll(async () => {
    live = await startLive({ rtp: { portMin: 32200, portMax: 32399 } });
    talker = await Baresip.start({ user: 'talker', tone: 440, codecs: ['pcmu'] });
    quiet = await Baresip.start({ user: 'quiet', tone: 0, codecs: ['pcmu'] });
    for (const b of [talker, quiet]) {
      await b.dial(live.uri('conf-2468'));
      await b.established();
    }
    profile = mkdtempSync(path.join(tmpdir(), 'parley-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await stopAllBaresip();
    await live?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows the conference, follows who talks, and mutes from the button', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(`${live.base}/#token=${TOKEN}`);
    const conf = page.locator('[data-conference="team-2468"]');
    const rows = conf.locator('[data-participant]');
    await until(
      async () => (await rows.count()) === 2,
      'two participants on the page',
      15_000,
      () => live.logTail(),
    );
    const talkerRow = rows.filter({ hasText: 'talker@' });
    const quietRow = rows.filter({ hasText: 'quiet@' });
    const dot = (row: typeof rows) => row.locator('[data-testid="talking"]');
    await until(
      async () => (await dot(talkerRow).getAttribute('class'))?.includes('on'),
      'the talker indicator on',
      10_000,
      () => live.logTail(),
    );
    expect(await dot(quietRow).getAttribute('class')).not.toContain('on');
    await until(
      async () => (await page.locator('#stream').getAttribute('data-state')) === 'on',
      'the event stream',
    );
    expect(await page.locator('[data-testid="config-version"]').textContent()).toBe(
      live.server.control?.config.current.version.slice(0, 12),
    );

    mkdirSync(ARTIFACTS, { recursive: true });
    await talkerRow.locator('button[data-action="mute"]').click();
    const id = await talkerRow.getAttribute('data-participant');
    await until(
      async () => (await live.get(`/v1/conferences/team-2468/participants/${id}`)).muted === true,
      'the talker muted through the API',
    );
    await until(
      async () => (await talkerRow.locator('[data-testid="muted"]').textContent()) === 'muted',
      'the page showing it muted',
    );
    expect(await talkerRow.locator('button[data-action="unmute"]').count()).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'management.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 60_000);
});
