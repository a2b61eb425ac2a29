import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Role, startRoles } from '../src/app/index.ts';
import { main } from '../src/cli/main.ts';
import { createSilentLogger } from '../src/log/index.ts';
import { encodeRecord, segmentName, segmentPath } from '../src/wal/index.ts';
import { killedAfterwards } from './child-processes.ts';
import {
  basicAuth,
  capturedOutput,
  capturingLogger,
  nobodyCanRun,
  queryApi,
  segmentMessage,
  tempDir,
  testConfig,
} from './helpers.ts';
import { BIN, exited, inletConfigFile } from './inlet-process.ts';
import { writeProjectFile } from './lake-fixtures.ts';

/**
 * Expects inlet start (the collector) to refuse a new data_dir that make prepared with
 * DATA_DIR_UNUSABLE and the message that message(dir) matches.
 */
async function expectRefusedDataDir(
  make: (dir: string) => void,
  message: (dir: string) => unknown,
  code = 'DATA_DIR_UNUSABLE',
  roles: Role[] = ['collector'],
) {
  const temp = tempDir();
  make(temp.dir);
  try {
    await expect(
      startRoles({ config: testConfig(temp.dir), logger: createSilentLogger(), roles }),
    ).rejects.toMatchObject({ code, message: message(temp.dir) });
  } finally {
    temp.cleanup();
  }
}

describe('roles', () => {
  it('a collector and a separate loader share one data directory; the web role queries what they wrote', async () => {
    const temp = tempDir();
    const config = testConfig(temp.dir, { wal: { seal_after_ms: 200 }, loader: { interval_ms: 100 } });
    const collector = await startRoles({ config, logger: createSilentLogger(), roles: ['collector', 'web'] });
    const loader = await startRoles({
      config: { ...config, server: { ...config.server, port: 0 } },
      logger: createSilentLogger(),
      roles: ['loader'],
    });
    try {
      expect(collector.loader).toBeUndefined();
      expect(loader.url).toBeUndefined();
      const url = collector.url as string;
      const response = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({ batch: [segmentMessage('role-1'), segmentMessage('role-2')] }),
      });
      expect(response.status).toBe(200);
      // The collector seals by age on its own; the other process loads the sealed segment.
      const partitions = join(temp.dir, 'lake', 'events');
      for (let i = 0; i < 100 && !(existsSync(partitions) && readdirSync(partitions).length > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(readdirSync(partitions).length).toBeGreaterThan(0);
      const rows = await queryApi(url, "SELECT event_id FROM events WHERE event_id LIKE 'role-%' ORDER BY 1");
      expect(rows.map((r) => r.event_id)).toEqual(['role-1', 'role-2']);
    } finally {
      await collector.close();
      await loader.close();
      temp.cleanup();
    }
  });

  it('the events WAL and the log WAL of POST /logs share one wal.max_bytes', async () => {
    const temp = tempDir();
    const config = testConfig(temp.dir, { wal: { max_bytes: 16384, seal_after_ms: 3_600_000 } });
    const collector = await startRoles({ config, logger: createSilentLogger(), roles: ['collector'] });
    const post = (path: string, body: unknown) =>
      fetch(`${collector.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify(body),
      });
    try {
      const events = Array.from({ length: 10 }, (_, i) =>
        segmentMessage(`budget-${i}`, { properties: { text: 'e'.repeat(800) } }),
      );
      expect((await post('/v1/batch', { batch: events })).status).toBe(200);
      // Alone this would fit in wal.max_bytes; with the events WAL's bytes it does not.
      const records = Array.from({ length: 10 }, (_, i) => ({ message: `line ${i} ${'l'.repeat(800)}` }));
      const refused = await post('/logs', records);
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ error: { code: 'WAL_FULL' } });
      expect((await post('/logs', records.slice(0, 1))).status).toBe(200);
    } finally {
      await collector.close();
      temp.cleanup();
    }
  });

  it('a collector on its own keeps running when the segment it seals by age cannot be written, and takes events again once it can', async () => {
    const temp = tempDir();
    const { config, url } = await inletConfigFile(temp.dir, 'wal: { seal_after_ms: 200 }\n');
    const child = killedAfterwards(
      spawn(process.execPath, [BIN, 'start', '--role', 'collector', '--config', config], {
        env: { ...process.env, INLET_API_TOKEN: 'test-token-0123456789', INLET_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    const until = async (text: string) => {
      while (!out.includes(text)) {
        if (child.exitCode !== null) throw new Error(`inlet exited with ${child.exitCode}:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const send = (id: string) =>
      fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({ batch: [segmentMessage(id)] }),
      });
    try {
      await until('inlet is listening');
      expect((await send('seal-1')).status).toBe(200);
      // The WAL folder deleted, and a file where it was: the open segment cannot be written again,
      // so the seal by age is refused. That refusal was a promise nobody handled, which ended the
      // process (with Node's stack, exit 1) instead of answering 503 until the folder is back.
      const walDir = join(temp.dir, 'data', 'wal', 'events');
      rmSync(walDir, { recursive: true, force: true });
      writeFileSync(walDir, 'not a folder');
      await until('the write-ahead log cannot be written');
      expect((await fetch(`${url}/healthz`)).status).toBe(503);
      rmSync(walDir);
      expect((await send('seal-2')).status).toBe(200);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      await exited(child);
      temp.cleanup();
    }
    expect(child.exitCode).toBe(0);
  });

  it('a collector deletes visitor-hash salts older than 48 hours as it starts, before any event', async () => {
    const temp = tempDir();
    const config = testConfig(temp.dir);
    const salts = join(temp.dir, 'state', 'salts');
    mkdirSync(salts, { recursive: true });
    const today = new Date().toISOString().slice(0, 10);
    writeFileSync(join(salts, '2020-01-01.salt'), 'x'.repeat(32));
    writeFileSync(join(salts, `${today}.salt`), 'x'.repeat(32));
    const collector = await startRoles({ config, logger: createSilentLogger(), roles: ['collector'] });
    try {
      expect(readdirSync(salts)).toEqual([`${today}.salt`]);
    } finally {
      await collector.close();
      temp.cleanup();
    }
  });

  it("a collector without the loader serves the loader's lag from the WAL's oldest sealed segment", async () => {
    const temp = tempDir();
    const config = testConfig(temp.dir);
    const wal = join(temp.dir, 'wal', 'events');
    mkdirSync(wal, { recursive: true });
    const waiting = segmentPath(wal, 1);
    writeFileSync(waiting, encodeRecord(JSON.stringify({ event_id: 'waiting' })));
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(waiting, hourAgo, hourAgo);
    const collector = await startRoles({ config, logger: createSilentLogger(), roles: ['collector'] });
    try {
      const text = await (await fetch(`${collector.url}/metrics`)).text();
      const lag = Number(/^inlet_loader_lag_seconds (\S+)$/m.exec(text)?.[1]);
      expect(lag).toBeGreaterThanOrEqual(3600);
    } finally {
      await collector.close();
      temp.cleanup();
    }
  });

  it('refuses a second collector or loader on one data directory, and takes one once the first stopped', async () => {
    const temp = tempDir();
    const config = testConfig(temp.dir);
    const other = { ...config, server: { ...config.server, port: 0 } };
    const first = await startRoles({ config, logger: createSilentLogger(), roles: ['collector', 'loader'] });
    try {
      for (const role of ['collector', 'loader'] as const) {
        await expect(
          startRoles({ config: other, logger: createSilentLogger(), roles: [role] }),
        ).rejects.toMatchObject({
          code: 'DATA_DIR_IN_USE',
          message: expect.stringContaining(`runs the ${role} role on ${config.data_dir}`),
        });
      }
      // A role the first does not run shares the directory.
      const web = await startRoles({ config: other, logger: createSilentLogger(), roles: ['web'] });
      await web.close();
    } finally {
      await first.close();
    }
    const again = await startRoles({ config: other, logger: createSilentLogger(), roles: ['collector'] });
    await again.close();
    temp.cleanup();
  });

  it('writes no API token when it refuses a start on a data directory another inlet serves', async () => {
    // The running inlet took its token from INLET_API_TOKEN; a second inlet start without it
    // generated data/state/api-token before it was refused, and the first one restarted without
    // the variable then served that token, not the one its clients send.
    const temp = tempDir();
    const { config: file } = await inletConfigFile(temp.dir);
    const state = join(temp.dir, 'data', 'state');
    const first = await startRoles({
      config: testConfig(join(temp.dir, 'data')),
      logger: createSilentLogger(),
      roles: ['collector', 'loader'],
    });
    try {
      const before = readdirSync(state).sort();
      const captured = capturedOutput();
      expect(await main(['start', '--config', file], captured.output, {})).toBe(3);
      expect(captured.err).toMatch(/^DATA_DIR_IN_USE: .* runs the collector role on /);
      expect(existsSync(join(state, 'api-token'))).toBe(false);
      expect(readdirSync(state).sort()).toEqual(before);
    } finally {
      await first.close();
      temp.cleanup();
    }
  });

  it('says so when server.port is taken, and leaves the data directory free', async () => {
    const temp = tempDir();
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    const config = testConfig(temp.dir);
    try {
      await expect(
        startRoles({
          // Read from prod.yaml, the advice was to set server.port in inlet.yaml.
          config: { ...config, server: { ...config.server, port }, configPath: join(temp.dir, 'prod.yaml') },
          logger: createSilentLogger(),
          roles: ['collector'],
        }),
      ).rejects.toMatchObject({
        code: 'SERVER_CANNOT_LISTEN',
        message: `Another program already listens on 127.0.0.1:${port}; stop it, or give inlet another port: --port N, or server.port in prod.yaml.`,
      });
      // Run on the defaults, it said to set server.port "in the configuration file", which was not there.
      await expect(
        startRoles({
          config: { ...config, server: { ...config.server, port } },
          logger: createSilentLogger(),
          roles: ['collector'],
        }),
      ).rejects.toMatchObject({
        message: `Another program already listens on 127.0.0.1:${port}; stop it, or give inlet another port: --port N, or server.port in a new ./inlet.yaml.`,
      });
      const next = await startRoles({ config, logger: createSilentLogger(), roles: ['collector'] });
      await next.close();
      // inlet start says so and exits 3, the configuration code the README and docs/errors.md give.
      const { config: file } = await inletConfigFile(temp.dir, '');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/port: \d+/, `port: ${port}`));
      const captured = capturedOutput();
      expect(
        await main(['start', '--config', file, '--role', 'web'], captured.output, {
          INLET_API_TOKEN: 'x'.repeat(16),
        }),
      ).toBe(3);
      expect(captured.err).toMatch(/^SERVER_CANNOT_LISTEN: /);
    } finally {
      blocker.close();
      temp.cleanup();
    }
  });

  it('a start that fails part-way stops the parts it had started and frees their locks', async () => {
    const temp = tempDir();
    const config = testConfig(temp.dir);
    const other = { ...config, server: { ...config.server, port: 0 } };
    const loader = await startRoles({ config: other, logger: createSilentLogger(), roles: ['loader'] });
    try {
      // The collector's lock is taken before the loader's is refused.
      await expect(
        startRoles({ config: other, logger: createSilentLogger(), roles: ['collector', 'loader'] }),
      ).rejects.toMatchObject({ code: 'DATA_DIR_IN_USE' });
      const collector = await startRoles({
        config: other,
        logger: createSilentLogger(),
        roles: ['collector'],
      });
      await collector.close();
    } finally {
      await loader.close();
      temp.cleanup();
    }
  });

  it('names a data_dir it cannot make, and what to do', async () => {
    const temp = tempDir();
    const file = join(temp.dir, 'a-file');
    writeFileSync(file, '');
    try {
      await expect(
        startRoles({
          config: testConfig(join(file, 'data')),
          logger: createSilentLogger(),
          roles: ['collector'],
        }),
      ).rejects.toMatchObject({
        code: 'DATA_DIR_UNUSABLE',
        message: expect.stringMatching(/ENOTDIR \(a file stands where a directory should\)\. Set data_dir/),
      });
    } finally {
      temp.cleanup();
    }
  });

  it('names a file standing where a folder of the data directory should be', async () => {
    // "making …/tmp failed with EEXIST. Set data_dir in inlet.yaml to a directory this user can
    // write, or give this user the data directory (chown -R)", which neither would fix.
    const made = (place: string) => (dir: string) => {
      mkdirSync(join(dir, place, '..'), { recursive: true });
      writeFileSync(join(dir, place), 'x');
    };
    for (const place of ['tmp', 'wal', join('wal', 'events')])
      await expectRefusedDataDir(
        made(place),
        (dir) =>
          `data_dir ${dir} cannot be used: ${join(dir, place)} is a file where inlet keeps a folder. Move it out of the data directory.`,
      );
    // The loader's: "an error inlet did not foresee: EEXIST: file already exists, mkdir '…/tmp/loader'".
    for (const place of [join('tmp', 'loader'), join('tmp', 'load')])
      await expectRefusedDataDir(
        made(place),
        (dir) =>
          `data_dir ${dir} cannot be used: ${join(dir, place)} is a file where inlet keeps a folder. Move it out of the data directory.`,
        'DATA_DIR_UNUSABLE',
        ['loader'],
      );
    // In the lake, as inlet run and inlet query say it.
    for (const place of [
      join('lake', 'events'),
      join('lake', '_rejects'),
      join('lake', '_rejects', 'events'),
    ])
      await expectRefusedDataDir(
        made(place),
        (dir) =>
          `The lake's tables cannot be read or written: ${join(dir, place)} is a file where inlet keeps a folder of the lake. Move what is there out of the lake, or restore the lake from a backup.`,
        'LAKE_UNREADABLE',
      );
  });

  it('names a folder standing where inlet keeps a file it removes at start (a lock, temporary files a crash left)', async () => {
    // Each stopped inlet start with "an error inlet did not foresee: ERR_FS_EISDIR: Path is a directory: rm returned EISDIR".
    const partition = join('lake', 'events', 'dt=2026-12-05');
    const places: Array<[string, Role]> = [
      [join('state', 'collector.lock'), 'collector'],
      [join('state', 'loader.lock'), 'loader'],
      [join(partition, '.part-0000000000000009.parquet.ids.tmp'), 'loader'],
      [join(partition, '.compact-c-0000000000000009.inputs'), 'loader'],
    ];
    for (const [place, role] of places)
      await expectRefusedDataDir(
        (dir) => mkdirSync(join(dir, place), { recursive: true }),
        (dir) =>
          expect.stringMatching(
            new RegExp(
              `^${join(dir, place)} is a folder where inlet keeps a file \\(.+\\), so it cannot be removed or written; move the folder out of the data directory`,
            ),
          ),
        'DATA_DIR_UNUSABLE',
        [role],
      );
  });

  it('names a named pipe standing where a WAL segment should be, where the start waited on it for good', async () => {
    const segment = join('wal', 'events', segmentName(1));
    await expectRefusedDataDir(
      (dir) => {
        mkdirSync(join(dir, 'wal', 'events'), { recursive: true });
        execFileSync('mkfifo', [join(dir, segment)]);
      },
      (dir) =>
        expect.stringContaining(
          `${join(dir, segment)} is no regular file (a named pipe, socket or device) where inlet keeps a file`,
        ),
    );
  });

  it('names a directory standing where a WAL segment or the state store should be', async () => {
    for (const place of [join('wal', 'events', segmentName(1)), 'state.sqlite']) {
      await expectRefusedDataDir(
        (dir) => mkdirSync(join(dir, place), { recursive: true }),
        (dir) => expect.stringContaining(`${join(dir, place)} is a directory where inlet keeps a file`),
      );
    }
  });

  // /dev/shm is a file system of its own on Linux: data/tmp linked there is what a mount of its own does.
  const shmApart = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev;
  it.skipIf(!shmApart)(
    'names data/tmp on another file system than the lake, as no file could be renamed into it',
    async () => {
      const temp = tempDir();
      const elsewhere = mkdtempSync(join('/dev/shm', 'inlet-tmp-'));
      const config = testConfig(temp.dir);
      mkdirSync(config.data_dir, { recursive: true });
      symlinkSync(elsewhere, join(config.data_dir, 'tmp'));
      try {
        await expect(
          startRoles({ config, logger: createSilentLogger(), roles: ['collector', 'loader'] }),
        ).rejects.toMatchObject({
          code: 'DATA_DIR_UNUSABLE',
          message: expect.stringContaining('are on different file systems'),
        });
      } finally {
        rmSync(elsewhere, { recursive: true, force: true });
        temp.cleanup();
      }
    },
  );

  // Only root can leave a folder another user may not write in, as a first start as root does.
  it.skipIf(process.getuid?.() !== 0 || !nobodyCanRun(BIN))(
    'names a data_dir folder or file this user may not write in (left by root, run as nobody)',
    async () => {
      const temp = tempDir();
      try {
        const { config } = await inletConfigFile(temp.dir);
        const events = join(temp.dir, 'data', 'wal', 'events');
        mkdirSync(events, { recursive: true });
        for (const dir of [temp.dir, join(temp.dir, 'data'), join(temp.dir, 'data', 'wal')])
          chmodSync(dir, 0o777);
        const startAsNobody = async () => {
          const child = killedAfterwards(
            spawn(
              'setpriv',
              [
                '--reuid=nobody',
                '--regid=nogroup',
                '--clear-groups',
                process.execPath,
                BIN,
                'start',
                '--config',
                config,
              ],
              {
                env: { ...process.env, INLET_API_TOKEN: 'x'.repeat(16) },
                stdio: ['ignore', 'ignore', 'pipe'],
              },
            ),
          );
          let err = '';
          child.stderr.on('data', (chunk) => {
            err += chunk;
          });
          const [code] = await once(child, 'exit');
          return [code, err];
        };
        const data = join(temp.dir, 'data');
        expect(await startAsNobody()).toEqual([
          3,
          expect.stringContaining(
            `DATA_DIR_UNUSABLE: data_dir ${data} cannot be used: writing in ${events} failed with EACCES`,
          ),
        ]);
        // A file inlet writes in place, left by root, is named too.
        chmodSync(events, 0o777);
        writeFileSync(join(data, 'state.sqlite'), '');
        const [code, err] = await startAsNobody();
        expect([code, err]).toEqual([
          3,
          expect.stringContaining(`writing ${join(data, 'state.sqlite')} failed with EACCES`),
        ]);
        expect(err).not.toContain('    at ');
      } finally {
        temp.cleanup();
      }
    },
    30_000,
  );

  it('refuses an unknown role with a usage error', async () => {
    const role = capturedOutput();
    expect(await main(['start', '--role', 'janitor'], role.output, {})).toBe(2);
    expect(role.err).toContain('Unknown role "janitor"');
    // --role "$ROLE" with ROLE unset, or a trailing comma, was 'Unknown role ""', which named no mistake.
    for (const [value, what] of [
      ['', 'is empty (an unset variable?)'],
      [' ', 'is empty (an unset variable?)'],
      ['collector,', 'has an empty role between its commas'],
      ['web,,loader', 'has an empty role between its commas'],
    ]) {
      const empty = capturedOutput();
      expect(await main(['start', '--role', value as string], empty.output, {}), value).toBe(2);
      expect(empty.err).toBe(
        `--role ${JSON.stringify(value)} ${what}: name roles of collector, loader, web, scheduler, separated by commas, or leave --role out to run them all.\n`,
      );
    }
    const port = capturedOutput();
    expect(await main(['start', '--role', 'web', '--port', '80000'], port.output, {})).toBe(2);
    expect(port.err).toContain('--port 80000 is not a port number');
  });

  it("a scheduler logs a dbt_project.yml models: entry for no model (dbt init's example:) at start, and not again at each run", async () => {
    const temp = tempDir();
    const project = join(temp.dir, 'project');
    writeProjectFile(
      project,
      'dbt_project.yml',
      'name: shop\nmodels:\n  shop:\n    example: { +materialized: view }\n',
    );
    writeProjectFile(project, 'models/plans.sql', "SELECT 'free' AS plan");
    const { logger, lines } = capturingLogger();
    const scheduler = await startRoles({
      config: {
        ...testConfig(join(temp.dir, 'data'), {
          workflows: [{ name: 'nightly', cron: '0 5 * * *', steps: ['run', 'test'] }],
        }),
        project_dir: project,
      },
      logger,
      roles: ['scheduler'],
    });
    try {
      const warnings = () => lines.filter((line) => line.level === 40).map((line) => line.msg);
      const stale = expect.stringMatching(
        /dbt_project\.yml: models\.shop\.example configures no model: no folder or model/,
      );
      expect(warnings()).toEqual([stale]);
      // Each step reads the project afresh; what it would warn of was said at start.
      for (let run = 0; run < 2; run++) {
        scheduler.scheduler?.trigger('nightly');
        await scheduler.scheduler?.idle();
      }
      expect(lines.filter((line) => line.msg === 'workflow run finished')).toHaveLength(2);
      expect(warnings()).toEqual([stale]);
    } finally {
      await scheduler.close();
      temp.cleanup();
    }
  });

  it('a role with nothing scheduled (a scheduler without workflows) runs until it is stopped', async () => {
    const temp = tempDir();
    const { config } = await inletConfigFile(temp.dir);
    const child = killedAfterwards(
      spawn(process.execPath, [BIN, 'start', '--config', config, '--role', 'scheduler'], {
        env: { ...process.env, INLET_API_TOKEN: 'roles-token-0123456789', INLET_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    try {
      let log = '';
      child.stdout?.on('data', (chunk) => {
        log += chunk;
      });
      for (let i = 0; i < 200 && !log.includes('inlet is running'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(JSON.parse(log.split('\n')[0] as string)).toMatchObject({ roles: ['scheduler'], workflows: [] });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(child.exitCode).toBeNull(); // before: exited with 0 right after saying it runs
      child.kill('SIGTERM');
      await exited(child);
      expect(child.exitCode).toBe(0);
    } finally {
      child.kill('SIGKILL');
      temp.cleanup();
    }
  });
});
