import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startInlet } from '../app/index.ts';
import { configFileName, type InletConfig } from '../config/index.ts';
import {
  DEMO_SITE,
  FEATURE_DESCRIPTIONS,
  planDemoSend,
  sendDemo,
  unfinishedDemoSend,
} from '../demo/index.ts';
import { InletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { type RunResult, runModels } from '../models/index.ts';
import { parseOptions, stoppedLine, whileInterruptible } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import { createProgress, type Output } from './output.ts';
import { portOption, stopAfterFault, untilStopped } from './start.ts';

export const demoHelp = `inlet demo [--days 30] [--force] [--exit] [--port N]
  Starts inlet with a "demo" site (write key ${DEMO_SITE.write_key}) and sends it a realistic
  synthetic month through the collector: page views, logins per account, feature events,
  help-centre searches (some with no result) and lecture heartbeats. Then keeps serving until
  Ctrl-C or SIGTERM, unless --exit. Skips sending when the demo site already has events, unless --force (another
  month, or the --days asked, with new events). A send cut short (Ctrl-C) resumes where it stopped on the next run.
  --port overrides server.port.`;

export async function demoCommand(
  args: string[],
  baseConfig: InletConfig,
  logger: Logger,
  output: Output,
): Promise<ExitCode> {
  const options = {
    days: { type: 'string', default: '30' },
    force: { type: 'boolean', default: false },
    exit: { type: 'boolean', default: false },
    port: { type: 'string' },
  } as const;
  const { values } = parseOptions(args, options, false);
  const port = portOption(values.port, baseConfig, output);
  if (port === undefined) return ExitCode.USAGE;
  // Digits only, as --port and --max-rows: Number() read 0x10 as 16 and 1e1 as 10 days.
  const days = /^\d{1,3}$/.test(values.days) ? Number(values.days) : Number.NaN;
  if (!(days >= 1 && days <= 366)) {
    output.err(`--days must be a whole number from 1 to 366, not "${values.days}"\n`);
    return ExitCode.USAGE;
  }
  const siteIndex = baseConfig.sites.findIndex((s) => s.id === DEMO_SITE.id);
  const site = baseConfig.sites[siteIndex] ?? DEMO_SITE;
  // The demo site's own limit wins, as at intake: checked against limits alone, a demo site of
  // inlet.yaml with max_event_age_days: 3 had 7 of --days 10's days filed today, without a word.
  const ownAge = baseConfig.sites[siteIndex]?.max_event_age_days;
  const maxAge = ownAge ?? baseConfig.limits.max_event_age_days;
  const ageKey =
    ownAge === undefined ? 'limits.max_event_age_days' : `sites[${siteIndex}].max_event_age_days`;
  if (maxAge > 0 && days >= maxAge) {
    // With a limit of 1 day, "use --days 0 or less" named no --days there is.
    const fewer = maxAge > 1 ? `use --days ${maxAge - 1} or less, or ` : '';
    output.err(
      `--days ${days} goes back as far as ${ageKey} (${maxAge}) or further, and older events are filed at their arrival; ${fewer}raise the limit in ${configFileName(baseConfig)} (0 keeps any age)\n`,
    );
    return ExitCode.USAGE;
  }
  // Added beside a site of inlet.yaml that has its key, the demo site took that site's events for
  // as long as the demo ran (and the demo's went to the other under inlet start).
  const keyTaken = baseConfig.sites.findIndex((s) => s.id !== site.id && s.write_key === site.write_key);
  if (keyTaken >= 0) {
    throw new InletError(
      'CONFIG_INVALID',
      `${baseConfig.configPath ?? 'inlet.yaml'} is not valid for inlet demo:\n  sites[${keyTaken}].write_key: is ${site.write_key}, the key inlet demo gives its own site, "${DEMO_SITE.id}", and two sites cannot share one; give site ${baseConfig.sites[keyTaken]?.id} another write_key, or the id ${DEMO_SITE.id} to have the demo send to it`,
    );
  }
  const config: InletConfig = {
    ...baseConfig,
    server: { ...baseConfig.server, port },
    sites: baseConfig.sites.some((s) => s.id === site.id) ? baseConfig.sites : [...baseConfig.sites, site],
  };
  const inlet = await startInlet({ config, logger });
  let closed = false;
  try {
    const existing = await inlet.engine.query(`SELECT count(*) FROM events WHERE site = '${site.id}'`);
    const unfinished = unfinishedDemoSend(inlet.state, site.id);
    if (unfinished)
      output.err(
        `Resuming the demo month a previous run left after ${unfinished.sentDays} of its ${unfinished.days} days.\n`,
      );
    const firstMonth = Number(existing.rows[0]?.[0]) === 0;
    if (!unfinished && !firstMonth && !values.force) {
      output.err(
        `The demo site already has ${Number(existing.rows[0]?.[0]).toLocaleString('en-US')} events; not sending more (use --force to add ${days === 30 ? 'another month' : `${days} more ${days === 1 ? 'day' : 'days'}`}).\n`,
      );
    } else {
      const send = unfinished ?? planDemoSend({ days, timezone: config.timezone, firstMonth });
      let progress: ReturnType<typeof createProgress> | undefined;
      let total = 0;
      let sent = 0;
      // Ctrl-C while it sent ended the process without a word: it now stops sending, and says what
      // the collector acknowledged, which the WAL keeps, and that the next run sends the rest.
      const stopped = await whileInterruptible(async (signal) => {
        sent = await sendDemo({
          state: inlet.state,
          site: site.id,
          url: inlet.url,
          writeKey: site.write_key,
          send,
          onStart: (events) => {
            total = events;
            progress = createProgress(output, 'Sending demo events', events);
          },
          onProgress: (n) => progress?.update(n),
          signal,
        });
        return signal.aborted ? ExitCode.INTERRUPTED : ExitCode.OK;
      });
      progress?.done(sent);
      if (stopped !== ExitCode.OK) {
        output.err(
          `${stoppedLine('demo', stopped)} ${sent.toLocaleString('en-US')} of the ${total.toLocaleString('en-US')} demo events to send were sent and acknowledged, and are kept in ${config.data_dir}; run inlet demo again to send the rest.\n`,
        );
        return stopped;
      }
      await inlet.loader.runOnce({ sealNow: true });
      output.err(
        `Sent ${sent.toLocaleString('en-US')} events for ${dayCount(send.days - send.sentDays)} to site "${site.id}" and loaded them into the lake.\n`,
      );
    }
    if (!existsSync(config.project_dir)) {
      // The demo product's features, plus two nobody uses, so features_unused has a story to tell.
      const seeds = join(config.project_dir, 'seeds');
      mkdirSync(seeds, { recursive: true });
      const rows = FEATURE_DESCRIPTIONS.map(([name, description]) => `${name},${description}\n`);
      writeFileSync(join(seeds, 'features.csv'), `feature,description\n${rows.join('')}`);
      output.err(
        `Wrote ${join(seeds, 'features.csv')}, the demo's list of features; edit it for your product.\n`,
      );
    }
    // Pasted as they were, the commands read ./inlet.yaml: after inlet demo --config conf/demo.yaml they
    // queried another data_dir, and said there was no events table.
    const configArg =
      config.configPath !== undefined && config.configPath !== resolve('inlet.yaml')
        ? ` --config ${shellWord(config.configPath)}`
        : '';
    // Nothing listened for Ctrl-C or SIGTERM while the marts were built: the process died without a
    // word, its model's query cut off. It stops the build as inlet run does, and says what is kept.
    let built: RunResult | undefined;
    const building = await whileInterruptible(async (signal) => {
      built = await runModels({ config, logger, signal });
      return signal.aborted ? ExitCode.INTERRUPTED : ExitCode.OK;
    });
    if (building !== ExitCode.OK || !built) {
      output.err(
        `${stoppedLine('demo', building)} The demo events are in ${config.data_dir}; inlet run${configArg} builds the marts.\n`,
      );
      return building;
    }
    // Listened for from here, before "Press Ctrl-C to stop.": a signal that came while the lines
    // below were printed, before any listener, ended the process at once, without a word.
    const stopped = values.exit ? undefined : untilStopped();
    const skipped = built.models.filter((m) => m.status === 'skipped').map((m) => m.name);
    const failed = built.models.filter((m) => m.status === 'failed' || m.status === 'test_failed');
    output.err(
      `Built ${built.models.length - skipped.length - failed.length} marts in ${(built.ms / 1000).toFixed(1)} s` +
        `${skipped.length > 0 ? ` (waiting for their input: ${skipped.join(', ')})` : ''}.\n`,
    );
    for (const model of failed) output.err(`  ${model.name} failed: ${model.message}\n`);
    // With --exit the server stops here: no "running at", and no curl to a server that is gone.
    const serving = [
      `    curl -s ${inlet.url}/api/query -H 'Authorization: Bearer ${inlet.apiToken}' -H 'Content-Type: application/json' \\`,
      `      -d '{"sql": "SELECT properties->>'"'"'query'"'"' AS query, count(*) FROM events WHERE name = '"'"'search'"'"' AND (properties->>'"'"'results'"'"')::INT = 0 GROUP BY ALL"}'`,
    ];
    output.err(
      [
        '',
        values.exit
          ? `The demo data is in ${config.data_dir}; inlet stopped, as --exit asks.`
          : `inlet is running at ${inlet.url}`,
        `  API token: ${inlet.apiToken}`,
        '  Try:',
        `    npx inlet query${configArg} "SELECT name, count(*) AS events FROM events WHERE type = 'track' GROUP BY ALL ORDER BY 2 DESC"`,
        `    npx inlet query${configArg} "SELECT * FROM daily_active_users ORDER BY dt DESC LIMIT 7"`,
        `    npx inlet query${configArg} "SELECT * FROM searches_without_results"`,
        `    npx inlet catalog${configArg}`,
        ...(values.exit ? [] : serving),
        '',
      ].join('\n'),
    );
    if (!stopped) return ExitCode.OK;
    output.err('Press Ctrl-C to stop.\n');
    const reason = await stopped;
    closed = true;
    if ('fault' in reason) return await stopAfterFault(reason, inlet, logger);
    await inlet.close();
    // Stopped while serving, it ended without a word, on Ctrl-C as on SIGTERM (docker stop): its
    // work was done, so it exits 0, as inlet start does, and says where the data it made stays.
    output.err(
      `inlet demo stopped on ${reason.signal === 'SIGINT' ? 'Ctrl-C (SIGINT)' : reason.signal}. The demo data stays in ${config.data_dir}; inlet demo${configArg} serves it again.\n`,
    );
    return ExitCode.OK;
  } finally {
    if (!closed) await inlet.close();
  }
}

/** 1 day, 30 days. */
function dayCount(n: number): string {
  return `${n} ${n === 1 ? 'day' : 'days'}`;
}

/** A path as one shell word: quoted when it holds anything but the characters a shell leaves alone. */
function shellWord(path: string): string {
  return /^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'"'"'`)}'`;
}
