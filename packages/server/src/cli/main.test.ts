import { execFile, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killedAfterwards, runChild } from '../../test/child-processes.ts';
import { capturedOutput, configIn, jsonLines, runCli, tempDir } from '../../test/helpers.ts';
import { BIN, inletConfigFile, spawnInlet, stopInlet } from '../../test/inlet-process.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { ExitCode } from './exit-codes.ts';
import { main } from './main.ts';
import { queryHelp } from './query.ts';
import { startHelp } from './start.ts';

const temp = tempDir();
const configPath = configIn(temp.dir, 'data_dir: ./data\n');
afterAll(() => temp.cleanup());

const inlet = (...argv: string[]) => runCli(argv);
/** inlet demo --exit on a free port, with <name>.yaml holding yaml and data_dir ./<name>. */
function demoWith(name: string, yaml: string, ...args: string[]) {
  const path = join(temp.dir, `${name}.yaml`);
  writeFileSync(path, `data_dir: ./${name}\nserver: { port: 0 }\n${yaml}`);
  return inlet('demo', ...args, '--exit', '--config', path);
}

describe('inlet command line', () => {
  it('takes --config before the command as well as after it', async () => {
    for (const argv of [
      ['--config', configPath, 'query', 'SELECT 41 + 1 AS n'],
      [`--config=${configPath}`, 'query', 'SELECT 41 + 1 AS n'],
      ['-c', configPath, 'query', 'SELECT 41 + 1 AS n'],
      ['query', 'SELECT 41 + 1 AS n', '--config', configPath],
    ]) {
      const run = await inlet(...argv);
      expect([run.code, run.out.trim(), run.err], argv.join(' ')).toEqual([ExitCode.OK, '{"n":42}', '']);
    }
  });

  it('reads -c=inlet.yaml as --config=inlet.yaml and -s=name as --select=name, where = began the value', async () => {
    const other = join(temp.dir, 'short.yaml');
    writeFileSync(other, 'data_dir: ./short\n');
    for (const argv of [
      [`-c=${other}`, 'query', 'SELECT 41 + 1 AS n'],
      ['query', 'SELECT 41 + 1 AS n', `-c=${other}`],
    ]) {
      const run = await inlet(...argv);
      // It was CONFIG_NOT_FOUND: "Config file …/=…/short.yaml does not exist."
      expect([run.code, run.out.trim(), run.err], argv.join(' ')).toEqual([ExitCode.OK, '{"n":42}', '']);
    }
    // -s=daily_active_users was read as flags by the --config scan, c among them: "tive_users" was
    // taken for the configuration file.
    const ls = await inlet('ls', '-s=daily_active_users', '--config', other);
    expect([ls.code, ls.out, ls.err]).toEqual([
      ExitCode.OK,
      '{"name":"daily_active_users","kind":"model","path":null}\n',
      '',
    ]);
  });

  it('refuses --config given twice, where the last was read and the other left without a word, and reads one before a --', async () => {
    const other = join(temp.dir, 'other.yaml');
    writeFileSync(other, 'data_dir: ./other\n');
    for (const argv of [
      ['query', 'SELECT 1', '--config', configPath, '--config', other],
      ['--config', configPath, 'query', 'SELECT 1', '-c', other],
    ]) {
      const run = await inlet(...argv);
      expect([run.code, run.out, run.err], argv.join(' ')).toEqual([
        ExitCode.USAGE,
        '',
        `--config is given 2 times (${JSON.stringify(configPath)}, ${JSON.stringify(other)}), and inlet reads one configuration file; give --config once.\n`,
      ]);
    }
    // A bare one after another: the second is no path.
    expect((await inlet('--config', configPath, 'query', 'SELECT 1', '--config')).err).toMatch(
      /^--config is given 2 times/,
    );
    // After the command's --, a --config given before the command went into the SQL, as a comment,
    // and the query ran on the defaults.
    const invalid = join(temp.dir, 'invalid.yaml');
    writeFileSync(invalid, 'colour: red\n');
    const run = await inlet('--config', invalid, 'query', '--', 'SELECT 1');
    expect([run.code, run.err.split('\n')[0]]).toEqual([
      ExitCode.CONFIG,
      `CONFIG_INVALID: ${invalid} is not valid:`,
    ]);
  });

  it('escapes control characters of an argument its usage messages quote, as errors with a code do', async () => {
    // inlet runs --workflow $'x\e[2J' cleared the terminal: the message quoted the argument raw.
    const bad = 'x\u001b[2J';
    for (const argv of [
      ['runs', '--workflow', bad],
      ['runs', '--status', bad],
      ['runs', '--limit', bad],
      ['runs', bad],
      ['start', '--role', bad],
      ['start', '--port', bad],
      ['query', 'SELECT 1', '--format', bad],
      [bad],
    ]) {
      const run = await inlet(...argv, '--config', configPath);
      expect(run.code, JSON.stringify(argv)).toBe(ExitCode.USAGE);
      expect(run.err, JSON.stringify(argv)).not.toContain('\u001b');
      expect(run.err, JSON.stringify(argv)).toContain('x\\u001b[2J');
    }
  });

  it('says a source left out for an unset variable is, in inlet catalog source:crm, as inlet ls does', async () => {
    // Both said inlet.yaml left it out, where left-out.yaml did.
    const leftOut = join(temp.dir, 'left-out.yaml');
    writeFileSync(
      leftOut,
      `data_dir: ./data\nsources:\n  - name: crm\n    type: postgres\n    url: \${CRM_URL}\n    tables: [{ table: users }]\n`,
    );
    // Neither named the variable, and "cannot be told" left a new user to guess what to set.
    const told =
      '"source:crm" names a source whose tables cannot be listed: left-out.yaml leaves it out, as the environment variable CRM_URL in its entry is not set; set CRM_URL (export CRM_URL=…) to list them.\n';
    for (const format of ['json', 'table']) {
      const run = await inlet('catalog', 'source:crm', '--format', format, '--config', leftOut);
      expect([run.code, run.out, run.err], format).toEqual([ExitCode.USAGE, '', `NOT_FOUND: ${told}`]);
    }
    expect((await inlet('ls', 'source:crm', '--config', leftOut)).err).toBe(`MODEL_NOT_FOUND: ${told}`);
  });

  it('refuses --config with no path after it as a usage error, where it ran on the defaults', async () => {
    // inlet start --config $CONFIG with the variable unset: the defaults, data and all in ./data.
    for (const argv of [
      ['query', 'SELECT 1', '--config'],
      ['query', 'SELECT 1', '-c'],
      ['query', 'SELECT 1', '--config', ''],
      ['--config=', 'query', 'SELECT 1'],
    ]) {
      const run = await inlet(...argv);
      expect([run.code, run.out, run.err], JSON.stringify(argv)).toEqual([
        ExitCode.USAGE,
        '',
        expect.stringMatching(/^--config needs the path of a configuration file after it/),
      ]);
    }
  });

  it("prints a command's usage for --help or -h after it", async () => {
    for (const flag of ['--help', '-h']) {
      const help = await inlet('query', flag);
      expect([help.code, help.err]).toEqual([ExitCode.OK, '']);
      expect(help.out).toContain('inlet query "<sql>" [--format table|json|csv]');
    }
    expect((await inlet('sync', 'crm', '--help')).out).toContain('inlet sync <source>');
    // inlet help <command>, as git help takes one.
    const start = await inlet('help', 'start');
    expect([start.code, start.out.split('\n')[0]]).toEqual([ExitCode.OK, startHelp.split('\n')[0]]);
  });

  it("names dbt's --select / -s in inlet ls --help, which takes them as inlet run and inlet test do", async () => {
    // The usage named --exclude alone, as did README's line, so --select looked like run's and test's only.
    for (const command of ['ls', 'run', 'test']) {
      const help = await inlet(command, '--help');
      expect([help.code, help.out.includes("dbt's --select / -s")], command).toEqual([ExitCode.OK, true]);
    }
  });

  it('lists inlet help among the commands and shows its usage for inlet help help, as README says', async () => {
    // inlet help help answered 'Unknown command "help"' and exited 2; the list left help out.
    const usage = await inlet('help', 'help');
    expect([usage.code, usage.err, usage.out.split('\n')[0]]).toEqual([
      ExitCode.OK,
      '',
      'inlet help [command]',
    ]);
    expect((await inlet('help')).out).toContain('\n  inlet help [command]\n');
  });

  it('says a command inlet help is asked about does not exist, as inlet nosuch does', async () => {
    // It printed the general help and exited 0, as if the command were there.
    const unknown = await inlet('help', 'qeury');
    expect(unknown.code).toBe(ExitCode.USAGE);
    expect(unknown.err.split('\n')[0]).toBe('Unknown command "qeury".');
    expect(unknown.out).toBe('');
  });

  it('says what inlet help does not take, as the other commands say of their extra words', async () => {
    // inlet help query extra showed query's usage and exited 0, extra passed over; inlet help --x
    // printed the list of commands, exit 0.
    for (const [argv, first] of [
      [['help', 'query', 'extra'], 'inlet help takes one command, not also "extra".'],
      [['help', 'query', 'run', 'sync'], 'inlet help takes one command, not also "run" "sync".'],
      [['help', '--x'], 'inlet help takes no option --x.'],
      [['help', 'query', '--format', 'json'], 'inlet help takes no option --format.'],
    ] as const) {
      const extra = await inlet(...argv);
      expect([extra.code, extra.out, extra.err.split('\n').slice(0, 2)], argv.join(' ')).toEqual([
        ExitCode.USAGE,
        '',
        [first, 'inlet help [command]'],
      ]);
    }
    // --config (which inlet help has no use for) and --help are no such words.
    for (const argv of [
      ['help', 'query', '--config', 'inlet.yaml'],
      ['--config', 'inlet.yaml', 'help', 'query'],
      ['help', 'query', '--help'],
    ]) {
      const asked = await inlet(...argv);
      expect([asked.code, asked.err, asked.out.split('\n')[0]], argv.join(' ')).toEqual([
        ExitCode.OK,
        '',
        queryHelp.split('\n')[0],
      ]);
    }
  });

  it('stops quietly when the reader of its output goes away (inlet query … | head)', async () => {
    // The first write after the pipe closed failed with EPIPE, thrown as an unhandled error.
    const query = spawnInlet([
      'query',
      'SELECT * FROM range(2000000)',
      '--format',
      'csv',
      '--config',
      configPath,
    ]);
    query.child.stdout?.once('data', () => query.child.stdout?.destroy());
    expect([await query.exit, query.err]).toEqual([0, '']);
  });

  it('stops quietly when the reader of its errors goes away (inlet query … 2>&1 | head)', async () => {
    // The table's note after it went to a closed stderr: EPIPE, unhandled, exit 1.
    const command = `"${process.execPath}" "${BIN}" query 'SELECT * FROM range(3000)' --format table --config "${configPath}" 2>&1 >/dev/null | true; echo "\${PIPESTATUS[0]}"`;
    const run = await runChild('bash', ['-c', command]);
    expect(run.stdout).toBe('0\n');
  }, 60_000);

  it.skipIf(!existsSync('/dev/full'))(
    'says in one line that it could not write its output to a full disk, with no stack trace',
    async () => {
      // ENOSPC was rethrown from the stream's error handler: Node's "throw error; ^" and the stack.
      // Both at once, and awaited: spawnSync held this worker for the seconds each took.
      const toFullDisk = (argv: string[]) =>
        new Promise<[number | null, string]>((resolve) => {
          const full = openSync('/dev/full', 'w');
          const child = killedAfterwards(
            spawn(process.execPath, [BIN, ...argv, '--config', configPath], {
              stdio: ['ignore', full, 'pipe'],
            }),
          );
          closeSync(full);
          let stderr = '';
          child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
            stderr += chunk;
          });
          child.on('close', (status) => resolve([status, stderr]));
        });
      const commands = [['query', 'SELECT * FROM range(100000)', '--format', 'csv'], ['help']];
      const runs = await Promise.all(commands.map(toFullDisk));
      for (const [i, run] of runs.entries())
        expect(run, commands[i]?.[0]).toEqual([
          ExitCode.FAILURE,
          'inlet could not write its output (ENOSPC: no space left on device, write), so what it wrote is incomplete; free room where standard output goes, or send it elsewhere.\n',
        ]);
    },
    60_000,
  );

  it('keeps its log out of the results a pipe reads: inlet run with a failing model prints one line per model', async () => {
    const dir = join(temp.dir, 'failing');
    writeProjectFile(join(dir, 'project'), 'models/broken.sql', 'SELECT no_such_column FROM events');
    writeProjectFile(join(dir, 'project'), 'models/fine.sql', 'SELECT 1 AS x');
    const config = configIn(dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
    const run = spawnInlet(['run', '--config', config]);
    expect(await run.exit).toBe(ExitCode.FAILURE);
    const lines = run.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => [l.name, l.status])).toEqual([
      ['broken', 'failed'],
      ['fine', 'success'],
    ]);
    // The log line about the failure goes with the other messages, to stderr, as text.
    expect(run.err).toMatch(/ ERROR model failed model=broken status=failed /);
    expect(run.err).toMatch(/Failed: 1 built, 1 failed, 0 skipped/);
  });

  it('takes inlet demo --days as digits only, as the other numeric options, naming what it was given', async () => {
    // Number() read 0x10 as 16 days and 1e1 as 10: the demo sent that many days of events. With
    // limits.max_event_age_days 10, both were refused as going back too far ("--days 16 goes back…").
    const config = join(temp.dir, 'demo-days.yaml');
    writeFileSync(config, 'data_dir: ./data\nlimits:\n  max_event_age_days: 10\n');
    for (const bad of ['0x10', '1e1', ' 5', '']) {
      const refused = await inlet('demo', '--days', bad, '--config', config);
      expect([bad, refused.code, refused.err]).toEqual([
        bad,
        ExitCode.USAGE,
        `--days must be a whole number from 1 to 366, not "${bad}"\n`,
      ]);
    }
    // Leading zeros are read, and the number named as read.
    expect((await inlet('demo', '--days', '010', '--config', config)).err).toMatch(/^--days 10 goes back /);
  });

  it('answers an option without a usable value with a usage error, not a stack trace', async () => {
    // A negative number got Node's "Option '--max-rows' argument is ambiguous", with advice to write
    // --max-rows=-XYZ; it now meets the option's own check, which says what the option takes.
    for (const [args, message] of [
      [
        ['query', 'SELECT 1', '--max-rows', '-5'],
        '--max-rows must be a whole number of rows (0 or more), not "-5"\n',
      ],
      [['query', 'SELECT 1', '--timeout-ms', '-1'], '--timeout-ms must be a whole number of milliseconds'],
      [
        ['runs', '--limit', '-5'],
        '--limit -5 must be a whole number from 1 to 1000; older runs are on the pages after (--before ID).\n',
      ],
      [['demo', '--days', '-5'], '--days must be a whole number from 1 to 366, not "-5"\n'],
      [['start', '--port', '-1'], '--port -1 is not a port number; give one from 0 to 65535.\n'],
      [
        ['run', '--from', '-1', '--to', '2026-01-01'],
        '--from must be a day as YYYY-MM-DD, and "-1" is not one.\n',
      ],
    ] as const) {
      const negative = await inlet(...args, '--config', configPath);
      expect([args, negative.code, negative.err]).toEqual([
        args,
        ExitCode.USAGE,
        expect.stringContaining(message),
      ]);
    }
    // Node's "Option '--format <value>' argument missing", "… argument is ambiguous" with advice about
    // --format=-XYZ, and "This command does not take positional arguments" named no command.
    for (const [args, message] of [
      [
        ['query', 'SELECT 1', '--format'],
        '--format needs a value after it; inlet query --help lists what it takes.\n',
      ],
      [['run', '-s'], '--select needs a value after it; inlet run --help lists what it takes.\n'],
      [
        ['runs', '--format', '--limit', '5'],
        '--format needs a value after it, where an option comes; write --format=VALUE for a value that starts with -; inlet runs --help lists what it takes.\n',
      ],
      [['start', 'now'], 'inlet start takes no argument "now"; inlet start --help lists what it takes.\n'],
      // Node's "Option '--full-refresh' does not take an argument", and no more.
      [
        ['run', '--full-refresh=true'],
        '--full-refresh takes no value: give it alone to switch it on, or leave it out; inlet run --help lists what it takes.\n',
      ],
      [
        ['demo', '--exit=yes'],
        '--exit takes no value: give it alone to switch it on, or leave it out; inlet demo --help lists what it takes.\n',
      ],
      // Given twice, the last was taken and the other left without a word.
      [
        ['start', '--port', '8080', '--port', '9090'],
        '--port is given 2 times ("8080", "9090"), and takes one value; give it once.\n',
      ],
      [
        ['query', 'SELECT 1', '--format', 'json', '--format', 'csv'],
        '--format is given 2 times ("json", "csv"), and takes one value; give it once.\n',
      ],
      [
        ['runs', '--limit', '5', '--limit=10'],
        '--limit is given 2 times ("5", "10"), and takes one value; give it once.\n',
      ],
      // inlet runs --workflow "$WF" with WF unset listed every workflow's runs.
      [
        ['runs', '--workflow', ''],
        '--workflow is empty (an unset variable?): name a workflow, or leave --workflow out to list the runs of all of them.\n',
      ],
    ] as const) {
      const missing = await inlet(...args, '--config', configPath);
      expect([args, missing.code, missing.err]).toEqual([args, ExitCode.USAGE, message]);
    }
    for (const command of ['start', 'demo']) {
      const port = await inlet(command, '--port', '70000', '--config', configPath);
      expect([command, port.code]).toEqual([command, ExitCode.USAGE]);
      expect(port.err).toContain('--port 70000 is not a port number; give one from 0 to 65535.');
    }
    // A role that starts no HTTP server left --port unread, and started as if it had taken it.
    for (const roles of [['loader'], ['loader', 'scheduler'], ['scheduler,loader']]) {
      const port = await inlet(
        'start',
        ...roles.flatMap((role) => ['--role', role]),
        '--port',
        '8081',
        '--config',
        configPath,
      );
      expect([roles, port.code, port.err]).toEqual([
        roles,
        ExitCode.USAGE,
        `--port 8081 sets the HTTP server's port, and --role ${roles.join(',')} starts no HTTP server (collector and web do); leave --port out.\n`,
      ]);
    }
    // Number() reads these as 80, 1000 and 0 (any free port): inlet listened where nobody asked.
    for (const value of ['0x50', '1e3', '', ' 8080']) {
      const port = await inlet('start', '--port', value, '--config', configPath);
      expect([value, port.code]).toEqual([value, ExitCode.USAGE]);
      expect(port.err).toContain(`--port ${value} is not a port number`);
    }
    // catalog and runs printed only their usage, which left the mistake to be guessed.
    for (const command of ['catalog', 'runs']) {
      const format = await inlet(command, '--format', 'xml', '--config', configPath);
      expect([command, format.code]).toEqual([command, ExitCode.USAGE]);
      expect(format.err).toContain('--format must be table, json or csv, not "xml"');
    }
    // Capped at 1,000 as GET /api/runs?limit= is, in the same words: --limit 5000 was taken.
    for (const value of ['0', 'abc', '2.5', '1001', '5000']) {
      const limit = await inlet('runs', '--limit', value, '--config', configPath);
      expect([value, limit.code]).toEqual([value, ExitCode.USAGE]);
      expect(limit.err).toContain(`--limit ${value} must be a whole number from 1 to 1000;`);
    }
    expect((await inlet('runs', '--limit', '1000', '--config', configPath)).code).toBe(ExitCode.OK);
    // An empty value (an unset variable) is shown in quotes: "--status  is not a run status" showed nothing.
    for (const [option, words] of [
      ['--limit', 'must be a whole number from 1 to 1000;'],
      ['--status', 'is not a run status;'],
      ['--before', 'is not a run id;'],
    ]) {
      const empty = await inlet('runs', option as string, '', '--config', configPath);
      expect([option, empty.code, empty.err]).toEqual([
        option,
        ExitCode.USAGE,
        expect.stringContaining(`${option} "" ${words}`),
      ]);
    }
    // With limits.max_event_age_days: 1 it said "use --days 0 or less", which --days refuses; and
    // to raise the limit in inlet.yaml, where it is in day-old.yaml.
    const dayOld = join(temp.dir, 'day-old.yaml');
    writeFileSync(dayOld, 'data_dir: ./data\nlimits:\n  max_event_age_days: 1\n');
    expect(await inlet('demo', '--days', '1', '--config', dayOld)).toMatchObject({
      code: ExitCode.USAGE,
      err: '--days 1 goes back as far as limits.max_event_age_days (1) or further, and older events are filed at their arrival; raise the limit in day-old.yaml (0 keeps any age)\n',
    });
    const weekOld = join(temp.dir, 'week-old.yaml');
    writeFileSync(weekOld, 'data_dir: ./data\nlimits:\n  max_event_age_days: 7\n');
    expect((await inlet('demo', '--config', weekOld)).err).toContain(
      'use --days 6 or less, or raise the limit in week-old.yaml (0 keeps any age)',
    );
  });

  it("checks inlet demo --days against the demo site's own max_event_age_days, which wins at intake", async () => {
    // Against limits.max_event_age_days alone, --days 4 sent a day the site's limit of 3 filed
    // today, without a word, and a demo site that takes any age was refused.
    const sites =
      'sites:\n  - id: docs\n    write_key: wk_docs_9f3a\n  - id: demo\n    write_key: wk_demo_public\n';
    expect(await demoWith('own-limit', `${sites}    max_event_age_days: 3\n`, '--days', '4')).toMatchObject({
      code: ExitCode.USAGE,
      err: '--days 4 goes back as far as sites[1].max_event_age_days (3) or further, and older events are filed at their arrival; use --days 2 or less, or raise the limit in own-limit.yaml (0 keeps any age)\n',
    });
    const anyAge = await demoWith(
      'any-age',
      `limits:\n  max_event_age_days: 2\n${sites}    max_event_age_days: 0\n`,
      '--days',
      '2',
    );
    expect([anyAge.code, anyAge.err]).toEqual([ExitCode.OK, expect.stringContaining('Sent ')]);
  });

  it('refuses inlet demo when a site of inlet.yaml has the demo write key, whose events the demo site took', async () => {
    const sites =
      'sites:\n  - id: docs\n    write_key: wk_docs_9f3a\n  - id: mysite\n    write_key: wk_demo_public\n';
    expect(await demoWith('shared-key', sites, '--days', '1')).toMatchObject({
      code: ExitCode.CONFIG,
      err: `CONFIG_INVALID: ${join(temp.dir, 'shared-key.yaml')} is not valid for inlet demo:\n  sites[1].write_key: is wk_demo_public, the key inlet demo gives its own site, "demo", and two sites cannot share one; give site mysite another write_key, or the id demo to have the demo send to it\n`,
    });
    // Nothing was sent: the demo site got the events of wk_demo_public, and mysite had them under inlet start.
    expect(existsSync(join(temp.dir, 'shared-key', 'wal'))).toBe(false);
  });

  it('says which words a command does not take or needs before its usage, which alone left them to be guessed', async () => {
    for (const [args, first] of [
      [['sync', 'crm', 'app', 'web'], 'inlet sync takes one source, not also "app" "web".'],
      [['runs', '5', '6'], 'inlet runs takes one run id, not also "6".'],
      [
        ['runs', ''],
        'inlet runs needs a run id (a whole number), not nothing (an unset variable?); inlet runs lists the runs.',
      ],
      [
        ['runs', 'stop', '1'],
        'inlet runs has no "stop": it takes a run id (inlet runs 12), start <workflow>, or nothing to list the runs.',
      ],
      [['runs', 'start', 'nightly', 'weekly'], 'inlet runs start takes one workflow, not also "weekly".'],
      [['catalog', 'events', 'marts'], 'inlet catalog takes one table, not also "marts".'],
      [['docs', 'check', 'marts'], 'inlet docs takes nothing after check, not also "marts".'],
      [['docs', 'lint'], 'inlet docs has one command, inlet docs check, not inlet docs lint.'],
      [
        ['sync'],
        'inlet sync needs the name of a source: none is configured; add one under sources: in inlet.yaml (docs/databases.md, docs/csv.md, docs/logs.md).',
      ],
      [
        ['query'],
        'inlet query needs the SQL to run, in quotes (an unset variable?): inlet query "SELECT count(*) FROM events".',
      ],
      [
        ['query', ' '],
        'inlet query needs the SQL to run, in quotes (an unset variable?): inlet query "SELECT count(*) FROM events".',
      ],
      [
        ['runs', 'start'],
        'inlet runs start needs the name of a workflow, and none is configured: add one under workflows: in inlet.yaml (docs/scheduler.md).',
      ],
    ] as const) {
      const extra = await inlet(...args, '--config', configPath);
      expect([args, extra.code, extra.err.split('\n')[0]]).toEqual([args, ExitCode.USAGE, first]);
    }
    // Read from prod.yaml, inlet sync said "inlet.yaml lists none (sources:)".
    const prod = join(temp.dir, 'prod.yaml');
    writeFileSync(prod, 'data_dir: ./data\n');
    expect((await inlet('sync', '--config', prod)).err.split('\n')[0]).toBe(
      'inlet sync needs the name of a source: none is configured; add one under sources: in prod.yaml (docs/databases.md, docs/csv.md, docs/logs.md).',
    );
  });

  it('says to create ./inlet.yaml where no configuration file was read, not to edit "the configuration file"', async () => {
    // Run on the defaults (no ./inlet.yaml, no --config), the advice named a file that was not there.
    const dir = join(temp.dir, 'no-config-file');
    mkdirSync(dir, { recursive: true });
    const run = (...argv: string[]) =>
      runChild(process.execPath, [BIN, ...argv], {
        cwd: dir,
        env: { ...process.env, INLET_LOG_LEVEL: 'silent' },
      });
    const sync = await run('sync');
    expect([sync.status, sync.stderr.split('\n')[0]]).toEqual([
      ExitCode.USAGE,
      'inlet sync needs the name of a source: none is configured; add one under sources: in a new ./inlet.yaml (docs/databases.md, docs/csv.md, docs/logs.md).',
    ]);
    const target = await run('run', '--target', 'prod');
    expect([target.status, target.stderr]).toEqual([
      ExitCode.USAGE,
      "--target is one of dbt's options, which inlet does not take: inlet has no profiles or targets: it builds in data_dir, which you set in a new ./inlet.yaml; for another, pass --config with another configuration file.\n",
    ]);
  }, 60_000);

  it("names the command whose option is unknown and where its options are listed, not Node's advice on positionals", async () => {
    // inlet docs check --format csv said "Unknown option '--format'. To specify a positional argument
    // starting with a '-', place it at the end of the command after '--', as in '-- "--format"".
    const docs = await inlet('docs', 'check', '--format', 'csv', '--config', configPath);
    expect([docs.code, docs.err]).toEqual([
      ExitCode.USAGE,
      'inlet docs takes no option --format; inlet docs --help lists the options it takes.\n',
    ]);
    const query = await inlet('query', 'SELECT 1', '--max-row', '5', '--config', configPath);
    expect([query.code, query.err]).toEqual([
      ExitCode.USAGE,
      'inlet query takes no option --max-row; inlet query --help lists the options it takes.\n',
    ]);
  });

  it('answers an unknown command with usage and exit 2, before reading the configuration', async () => {
    const captured = capturedOutput();
    const code = await main(['strat', '--config', '/nonexistent/inlet.yaml'], captured.output, {});
    expect([code, captured.err]).toEqual([
      ExitCode.USAGE,
      expect.stringContaining('Unknown command "strat"'),
    ]);
    expect(captured.err).toContain('Usage: inlet <command>');
  });

  it('says an option where the command goes is no command, and that a command is missing after --config', async () => {
    // 'Unknown command "--verbose"', and for inlet --config x.yaml the list of commands without a word.
    const option = await inlet('--verbose', 'query', 'SELECT 1');
    expect([option.code, option.out, option.err.split('\n')[0]]).toEqual([
      ExitCode.USAGE,
      '',
      "--verbose is no command: inlet takes its command first and the command's options after it (inlet <command> --help lists them); --config alone may come before.",
    ]);
    for (const argv of [['--config', 'inlet.yaml'], ['-c', 'inlet.yaml'], ['--config=inlet.yaml']]) {
      const missing = await inlet(...argv);
      expect([missing.code, missing.out, missing.err.split('\n')[0]], argv.join(' ')).toEqual([
        ExitCode.USAGE,
        '',
        'inlet needs a command after --config, such as inlet --config x.yaml start.',
      ]);
      expect(missing.err).toContain('Usage: inlet <command>');
    }
    expect((await inlet('--help')).code).toBe(ExitCode.OK);
  });

  it('prints a configuration error as CODE: message, as every other error, so docs/errors.md can be looked up', async () => {
    // The code was left out: "… is not valid:" alone named no entry of docs/errors.md.
    const file = join(temp.dir, 'colour.yaml');
    writeFileSync(file, 'colour: red\n');
    const invalid = await inlet('query', 'SELECT 1', '--config', file);
    expect([invalid.code, invalid.err.split('\n')[0]]).toEqual([
      ExitCode.CONFIG,
      `CONFIG_INVALID: ${file} is not valid:`,
    ]);
    expect(invalid.err).toContain(
      'unknown key "colour"; check the spelling against the configuration reference in docs/configuration.md',
    );
    const missing = await inlet('query', 'SELECT 1', '--config', join(temp.dir, 'nosuch.yaml'));
    expect([missing.code, missing.err]).toEqual([
      ExitCode.CONFIG,
      expect.stringMatching(/^CONFIG_NOT_FOUND: Config file /),
    ]);
  });

  it('refuses a project_dir that names no folder for the commands that read the project, where it built nothing', async () => {
    const dir = join(temp.dir, 'nowhere-project');
    const file = configIn(dir, 'data_dir: ./data\nproject_dir: ./no/such/dir\nmodels: { builtin: false }\n');
    const missing = join(dir, 'no', 'such', 'dir');
    for (const argv of [['run'], ['test'], ['ls'], ['runs', 'start', 'nightly']]) {
      const run = await inlet(...argv, '--config', file);
      // inlet run said "Done: 0 built, 0 failed, 0 skipped" and exited 0.
      expect([run.code, run.out, run.err], argv.join(' ')).toEqual([
        ExitCode.CONFIG,
        '',
        `CONFIG_INVALID: ${file} is not valid:\n  project_dir: ${missing} does not exist; correct the path, create the folder with your models in models/ (mkdir -p ${join(missing, 'models')}), or remove project_dir to build the built-in marts alone\n`,
      ]);
    }
    // Those that do not read it run: a query of the lake, and the run history (refused, it hid the
    // runs that would say what went wrong).
    const query = await inlet('query', 'SELECT 41 + 1 AS n', '--config', file);
    expect([query.code, query.out, query.err]).toEqual([ExitCode.OK, '{"n":42}\n', '']);
    const runs = await inlet('runs', '--format', 'csv', '--config', file);
    expect([runs.code, runs.out.split('\r\n')[0], runs.err]).toEqual([
      ExitCode.OK,
      'id,workflow,scheduled_for,trigger,status,started_at,duration_ms,error',
      '',
    ]);
    const one = await inlet('runs', '1', '--config', file);
    expect([one.code, one.err]).toEqual([
      ExitCode.USAGE,
      expect.stringMatching(/^NOT_FOUND: No run has id 1/),
    ]);
    mkdirSync(missing, { recursive: true });
    const run = await inlet('run', '--config', file);
    expect([run.code, run.err]).toEqual([
      ExitCode.OK,
      expect.stringMatching(/^Done: 0 built, 0 failed, 0 skipped in /),
    ]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('runs every command beside a workflow with an unset ${VAR}, and says which variable when it is started', async () => {
    const dir = join(temp.dir, 'unset-workflow-var');
    const file = configIn(
      dir,
      'data_dir: ./data\nmodels: { builtin: false }\nworkflows:\n' +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
        '  - { name: backfill, cron: "0 5 * * *", steps: [{ run: "+x", vars: { start: "${BACKFILL_START}" } }] }\n',
    );
    // Both said "environment variable BACKFILL_START is referenced but not set" and exited 3.
    const query = await inlet('query', 'SELECT 41 + 1 AS n', '--config', file);
    expect([query.code, query.out, query.err]).toEqual([ExitCode.OK, '{"n":42}\n', '']);
    const start = await inlet('runs', 'start', 'backfill', '--config', file);
    expect([start.code, start.out, start.err]).toEqual([
      ExitCode.USAGE,
      '',
      `NOT_FOUND: Workflow "backfill" is left out: ${file} gives it \${BACKFILL_START}, and the environment variable BACKFILL_START is not set; set it (export BACKFILL_START=…) or write \${BACKFILL_START:-default} in ${file}, then run it again.\n`,
    ]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
  it('names a workflow an unset ${VAR} leaves out, and why, where inlet runs lists the workflows', async () => {
    // inlet runs start (no name) listed "workflows: nightly", and inlet runs start nightyl and
    // inlet runs --workflow backfill named backfill nowhere, as if inlet.yaml had no such workflow.
    const dir = join(temp.dir, 'unset-workflow-list');
    const file = configIn(
      dir,
      'data_dir: ./data\nworkflows:\n' +
        '  - { name: nightly, cron: "0 3 * * *", steps: [{ run: daily_active_users }] }\n' +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
        '  - { name: backfill, cron: "0 5 * * *", steps: [{ run: "+x", vars: { start: "${BACKFILL_START}" } }] }\n',
    );
    const list = 'workflows: backfill (left out: BACKFILL_START is not set), nightly.';
    const usage = await inlet('runs', 'start', '--config', file);
    expect([usage.code, usage.err.split('\n')[0]]).toEqual([
      ExitCode.USAGE,
      `inlet runs start needs a workflow's name (an unset variable?); ${list}`,
    ]);
    const typo = await inlet('runs', 'start', 'nightyl', '--config', file);
    expect([typo.code, typo.err]).toEqual([
      ExitCode.USAGE,
      `NOT_FOUND: No workflow named "nightyl"; ${list}\n`,
    ]);
    const filter = await inlet('runs', '--workflow', 'nightyl', '--config', file);
    expect([filter.code, filter.err]).toEqual([
      ExitCode.USAGE,
      `--workflow nightyl names no workflow that is configured or has runs; ${list}\n`,
    ]);
    // Configured, though left out: its runs, none yet, where it was "names no workflow", and why it
    // does not run, as for a workflow that does not load.
    const leftOut = await inlet('runs', '--workflow', 'backfill', '--format', 'csv', '--config', file);
    expect([leftOut.code, leftOut.err]).toEqual([
      ExitCode.OK,
      `workflow "backfill" does not run until BACKFILL_START is set: Workflow "backfill" is left out: ${file} gives it \${BACKFILL_START}, and the environment variable BACKFILL_START is not set; set it (export BACKFILL_START=…) or write \${BACKFILL_START:-default} in ${file}, then restart inlet for it to run on its cron.\n`,
    ]);
  });

  it('says no workflow is configured, and where to add one, when inlet runs start has none to run', async () => {
    // "workflows: (none)." said what was missing, not where to add it.
    const none = 'none is configured: add one under workflows: in inlet.yaml (docs/scheduler.md).';
    const usage = await inlet('runs', 'start', '--config', configPath);
    expect([usage.code, usage.err.split('\n')[0]]).toEqual([
      ExitCode.USAGE,
      `inlet runs start needs the name of a workflow, and ${none}`,
    ]);
    const named = await inlet('runs', 'start', 'nightly', '--config', configPath);
    expect([named.code, named.err]).toEqual([
      ExitCode.USAGE,
      `NOT_FOUND: No workflow named "nightly": ${none}\n`,
    ]);
  });

  it('refuses a short or unsendable INLET_API_TOKEN for the commands that serve the API only', async () => {
    // A token of a few characters kept in the shell stopped inlet query, ls and runs, which use none.
    const dir = join(temp.dir, 'short-token');
    const config = configIn(dir, 'data_dir: ./data\nserver: { port: 0 }\n');
    const run = async (token: string, ...argv: string[]) => {
      const captured = capturedOutput();
      const code = await main([...argv, '--config', config], captured.output, { INLET_API_TOKEN: token });
      return [code, captured.err];
    };
    for (const token of ['secret', 'correct horse battery staple']) {
      expect(await run(token, 'query', 'SELECT 1', '--format', 'csv'), token).toEqual([ExitCode.OK, '']);
      expect(await run(token, 'runs'), token).toEqual([ExitCode.OK, '']);
    }
    expect(await run('secret', 'start')).toEqual([
      ExitCode.CONFIG,
      'CONFIG_INVALID: INLET_API_TOKEN is shorter than 16 characters, short enough to guess; set a longer one (openssl rand -hex 24), or unset it and inlet generates one.\n',
    ]);
    expect(await run('correct horse battery staple', 'start')).toEqual([
      ExitCode.CONFIG,
      expect.stringContaining(
        'CONFIG_INVALID: INLET_API_TOKEN holds a space, which an Authorization: Bearer',
      ),
    ]);
    // Nothing was written for the token it refused.
    expect(existsSync(join(dir, 'data', 'state', 'api-token'))).toBe(false);
  });

  it('says so when --config names a directory, or the file leaves data_dir or server.host empty', async () => {
    const run = async (config: string) => {
      const captured = capturedOutput();
      return {
        code: await main(['query', 'SELECT 1', '--config', config], captured.output, {}),
        err: captured.err,
      };
    };
    expect(await run(temp.dir)).toEqual({
      code: ExitCode.CONFIG,
      err: expect.stringContaining(`Config file ${temp.dir} is a directory`),
    });
    for (const [yaml, key] of [
      ["data_dir: ''\n", 'data_dir:'],
      ['server: { host: "" }\n', 'server.host:'],
    ] as const) {
      const file = join(temp.dir, 'empty.yaml');
      writeFileSync(file, yaml);
      const result = await run(file);
      expect([result.code, result.err], yaml).toEqual([ExitCode.CONFIG, expect.stringContaining(key)]);
    }
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${VAR} is inlet.yaml syntax, not a template
  it("runs commands that use no database while another source's ${VAR} is unset, as README's examples do", async () => {
    // README: "npx inlet sync nginx", then "CRM_DATABASE_URL=… npx inlet sync crm", then queries
    // without the variable. Every command once stopped at the unset URL of a source it never used.
    const dir = join(temp.dir, 'unset-source-url');
    mkdirSync(join(dir, 'exports'), { recursive: true });
    writeFileSync(join(dir, 'exports', 'plans.csv'), 'id,name\n1,pro\n');
    const config = configIn(
      dir,
      [
        'sources:',
        '  - name: sales',
        '    type: csv',
        '    tables: [{ path: exports/plans.csv }]',
        '  - name: crm',
        '    type: postgres',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
        '    url: ${QA_UNSET_CRM_URL}',
        '    tables: [{ table: public.plans }]',
        '',
      ].join('\n'),
    );
    const sync = await inlet('sync', 'sales', '--config', config);
    expect([sync.code, sync.err]).toEqual([ExitCode.OK, 'plans: 1 row\nSynced 1 row from sales.\n']);
    const query = await inlet('query', 'SELECT name FROM sales.plans', '--config', config);
    expect([query.code, query.out, query.err]).toEqual([ExitCode.OK, '{"name":"pro"}\n', '']);
    expect((await inlet('catalog', '--config', config)).code).toBe(ExitCode.OK);
    // The run history is read without it too, with a workflow that syncs crm configured.
    writeFileSync(
      config,
      `${readFileSync(config, 'utf8')}workflows:\n  - { name: nightly, cron: "0 5 * * *", steps: [sync crm] }\n`,
    );
    const runs = await inlet('runs', '--workflow', 'nightly', '--config', config);
    expect([runs.code, runs.err]).toEqual([ExitCode.OK, '']);
    // The source that needs the variable still stops at once and names it; inlet runs start runs
    // the workflow, whose sync step fails naming it (test/sources-unset.test.ts starts inlet).
    const refused = await inlet('sync', 'crm', '--config', config);
    expect([refused.code, refused.err]).toEqual([
      ExitCode.CONFIG,
      `CONFIG_INVALID: ${config}: environment variable QA_UNSET_CRM_URL is referenced but not set. Set it, or write \${QA_UNSET_CRM_URL:-default}.\n`,
    ]);
    const nightly = await inlet('runs', 'start', 'nightly', '--config', config);
    expect(nightly.code).toBe(ExitCode.FAILURE);
    expect(nightly.out).toContain('environment variable QA_UNSET_CRM_URL in its entry is not set');
  });

  it('exits 2 (usage) for a source, run, table or model name that does not exist, naming those that do', async () => {
    const config = configIn(
      join(temp.dir, 'unknown-names'),
      'data_dir: ./data\nsources:\n  - { name: sales, type: csv, tables: [{ path: plans.csv }] }\n',
    );
    for (const [argv, named] of [
      [['sync', 'nosuch'], 'configured sources: sales'],
      [['runs', '999'], 'No run has id 999; no workflow has run yet (inlet runs lists them).'],
      // Named as read: it was "No run has id 0999".
      [['runs', '0999'], 'No run has id 999; no workflow has run yet (inlet runs lists them).'],
      [['catalog', 'nope'], 'the lake has '],
      [['run', 'nosuch'], 'No model or seed matches "nosuch"'],
    ] as const) {
      const refused = await inlet(...argv, '--config', config);
      expect([refused.code, refused.err], argv.join(' ')).toEqual([
        ExitCode.USAGE,
        expect.stringContaining(named),
      ]);
    }
  });

  it('exits 3 (configuration) for a workflow that is not valid, as for any other error in inlet.yaml', async () => {
    // It exited 1, as a failed run does, so a supervisor that stops retrying on 3 restarted it in a loop.
    const config = configIn(
      join(temp.dir, 'bad-workflow'),
      'data_dir: ./data\nworkflows:\n  - { name: nightly, cron: "0 5 * * *", steps: [sync crm] }\n',
    );
    const refused = await inlet('runs', 'start', 'nightly', '--config', config);
    expect([refused.code, refused.err]).toEqual([
      ExitCode.CONFIG,
      expect.stringMatching(/^WORKFLOW_INVALID: /),
    ]);
  });

  it('exits 1 with LAKE_UNREADABLE, as inlet query says it, when lake/events is a file, for run, test, catalog and docs check', async () => {
    // Each ended with a bare ENOTDIR, as an error inlet did not foresee (exit 5).
    const dir = join(temp.dir, 'events-file');
    mkdirSync(join(dir, 'data', 'lake'), { recursive: true });
    writeFileSync(join(dir, 'data', 'lake', 'events'), 'not a folder\n');
    const config = configIn(dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
    writeProjectFile(join(dir, 'project'), 'models/m.sql', 'SELECT 1 AS n');
    for (const argv of [['run'], ['test'], ['catalog'], ['docs', 'check']]) {
      const refused = await inlet(...argv, '--config', config);
      expect([refused.code, refused.err], argv.join(' ')).toEqual([
        ExitCode.FAILURE,
        expect.stringMatching(
          /^LAKE_UNREADABLE: The lake's tables cannot be read, .*\(ENOTDIR: not a directory, scandir '.*events'\)/,
        ),
      ]);
    }
  });

  it('refuses to start, naming the file, when lake/events or lake is a file, as inlet run says it', async () => {
    // inlet start said DATA_DIR_UNUSABLE "making …/lake/events failed with EEXIST" with advice about
    // permissions; with lake itself a file, inlet run ended with a bare ENOTDIR (exit 5).
    const dir = join(temp.dir, 'lake-file');
    const config = configIn(dir, 'data_dir: ./data\nserver:\n  port: 0\nmodels:\n  builtin: false\n');
    writeProjectFile(join(dir, 'project'), 'models/m.sql', 'SELECT 1 AS n');
    // lake/marts a file failed each model of inlet run with "stg_events: ENOTDIR: not a directory, mkdir …".
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    writeProjectFile(dir, join('data', 'lake', 'marts'), 'not a folder\n');
    expect(await inlet('run', '--config', config)).toMatchObject({
      code: ExitCode.FAILURE,
      err: `LAKE_UNREADABLE: The lake's tables cannot be read or written: ${join(dir, 'data', 'lake', 'marts')} is a file where inlet keeps a folder of the lake. Move what is there out of the lake, or restore the lake from a backup.\n`,
    });
    for (const place of [join('lake', 'events'), 'lake']) {
      const file = join(dir, 'data', place);
      rmSync(join(dir, 'data'), { recursive: true, force: true });
      writeProjectFile(dir, join('data', place), 'not a folder\n');
      for (const command of ['start', 'demo']) {
        const refused = await inlet(command, '--config', config);
        expect([refused.code, refused.err], `${command} with ${place} a file`).toEqual([
          ExitCode.CONFIG,
          `LAKE_UNREADABLE: The lake's tables cannot be read or written: ${file} is a file where inlet keeps a folder of the lake. Move what is there out of the lake, or restore the lake from a backup.\n`,
        ]);
      }
      const run = await inlet('run', '--config', config);
      expect([run.code, run.err], `run with ${place} a file`).toEqual([
        ExitCode.FAILURE,
        expect.stringMatching(/^LAKE_UNREADABLE: .*ENOTDIR: not a directory, scandir '.*'/),
      ]);
    }
    // Elsewhere in the data directory the file is named as well, where it said ENOTDIR and permissions.
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    writeProjectFile(dir, join('data', 'wal'), 'not a folder\n');
    expect(await inlet('start', '--config', config)).toMatchObject({
      code: ExitCode.CONFIG,
      err: `DATA_DIR_UNUSABLE: data_dir ${join(dir, 'data')} cannot be used: ${join(dir, 'data', 'wal')} is a file where inlet keeps a folder. Move it out of the data directory.\n`,
    });
    // data_dir itself a file: "making … failed with EEXIST", with advice about permissions. Read
    // from prod.yaml, the advice was to set data_dir in inlet.yaml.
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    writeProjectFile(dir, 'data', 'not a folder\n');
    const prod = join(dir, 'prod.yaml');
    copyFileSync(config, prod);
    // inlet runs said "an error inlet did not foresee: EEXIST: file already exists, mkdir …" (exit 5).
    for (const command of [['start'], ['run'], ['runs'], ['runs', '1'], ['runs', 'start', 'nightly']]) {
      const refused = await inlet(...command, '--config', prod);
      expect([command, refused.code, refused.err]).toEqual([
        command,
        ExitCode.CONFIG,
        `DATA_DIR_UNUSABLE: data_dir ${join(dir, 'data')} is a file, not a directory; set data_dir in prod.yaml to a directory (inlet makes it when it is not there), or move the file away.\n`,
      ]);
    }
    rmSync(join(dir, 'data'), { force: true });
    // inlet run takes its build locks in data/state/locks: "ENOTDIR: not a directory, mkdir …" (exit 5);
    // inlet runs start failed its run with that error, its stack logged on stderr.
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    writeProjectFile(dir, join('data', 'state'), 'not a folder\n');
    for (const command of [['run'], ['runs', 'start', 'nightly']])
      expect(await inlet(...command, '--config', config), command.join(' ')).toMatchObject({
        code: ExitCode.CONFIG,
        err: `DATA_DIR_UNUSABLE: data_dir ${join(dir, 'data')} cannot be used: ${join(dir, 'data', 'state')} is a file where inlet keeps a folder. Move it out of the data directory.\n`,
      });
  });

  it('refuses an INLET_LOG_LEVEL that is not a level, saying which are', async () => {
    const captured = capturedOutput();
    const code = await main(['query', 'SELECT 1', '--config', configPath], captured.output, {
      INLET_LOG_LEVEL: 'verbose',
    });
    expect([code, captured.err]).toEqual([
      ExitCode.CONFIG,
      expect.stringContaining('INLET_LOG_LEVEL is "verbose", not a log level; set it to one of trace, debug'),
    ]);
  });

  it('takes --log-format json|text on the commands that log, over INLET_LOG_FORMAT', async () => {
    // Only INLET_LOG_FORMAT chose it: inlet run --log-format json was refused as an unknown option.
    const dir = join(temp.dir, 'log-format');
    writeProjectFile(join(dir, 'project'), 'models/broken.sql', 'SELECT * FROM nosuch');
    const { config } = await inletConfigFile(dir, 'models:\n  builtin: false\n');
    const { INLET_LOG_FORMAT: _format, INLET_LOG_LEVEL: _level, ...env } = process.env;
    const run = spawnInlet(['run', '--log-format', 'json', '--config', config], {
      ...env,
      INLET_LOG_FORMAT: 'text',
    });
    expect(await run.exit).toBe(ExitCode.FAILURE);
    expect(jsonLines(run.err.split('\n')[0] ?? '')).toMatchObject([
      { level: 50, msg: 'model failed', model: 'broken' },
    ]);
    // inlet start, which logs JSON to stdout by default, in text lines.
    const start = spawnInlet(['start', '--role', 'collector', '--log-format=text', '--config', config], {
      ...env,
      INLET_LOG_FORMAT: 'json',
      INLET_API_TOKEN: 'x'.repeat(16),
    });
    await start.waitForOutput('\n');
    await stopInlet(start);
    expect(start.out).toMatch(/^\d\d:\d\d:\d\d INFO inlet is listening url=http:\/\/127\.0\.0\.1:\d+ /);
    // A variable it overrides is not read, whatever it holds.
    const overridden = capturedOutput();
    expect(
      await main(['query', 'SELECT 1', '--log-format', 'json', '--config', config], overridden.output, {
        INLET_LOG_FORMAT: 'pretty',
      }),
    ).toBe(ExitCode.OK);
    // A value it does not take, none, or two, is a usage error naming the flag and what it takes.
    const refused = async (...argv: string[]) => {
      const { code, out, err } = await inlet('run', ...argv, '--config', config);
      return [code, out, err];
    };
    expect(await refused('--log-format', 'pretty')).toEqual([
      ExitCode.USAGE,
      '',
      '--log-format is "pretty", not a log format; give json or text, or leave it out.\n',
    ]);
    expect(await refused('--log-format')).toEqual([
      ExitCode.USAGE,
      '',
      '--log-format needs json or text after it, or leave it out.\n',
    ]);
    expect(await refused('--log-format', 'json', '--log-format=text')).toEqual([
      ExitCode.USAGE,
      '',
      '--log-format is given 2 times ("json", "text"), and inlet logs in one format; give --log-format once.\n',
    ]);
    // inlet test logs nothing: its tests' results are its output.
    expect((await inlet('test', '--log-format', 'json', '--config', config)).err).toBe(
      'inlet test takes no option --log-format; inlet test --help lists the options it takes.\n',
    );
  }, 60_000);

  it('says in one line what failed when start fails in a way inlet did not foresee, the stack at debug', async () => {
    // An error no check foresees, from a file preloaded for this test (test/fixtures/fault-at-start.cjs)
    // as a bug would throw it: it printed Node's stack trace and exited 1, like any other failure.
    const dir = join(temp.dir, 'unforeseen');
    const { config } = await inletConfigFile(dir);
    const fault = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'fault-at-start.cjs');
    const start = (level: string | undefined) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const { INLET_API_TOKEN: _token, INLET_LOG_LEVEL: _level, ...env } = process.env;
        if (level !== undefined) env.INLET_LOG_LEVEL = level;
        env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${fault}`;
        const child = killedAfterwards(
          execFile(process.execPath, [BIN, 'start', '--config', config], { env }, (_e, out, err) =>
            resolve({ code: child.exitCode, out, err }),
          ),
        );
      });
    const plain = await start(undefined);
    expect(plain.code).toBe(ExitCode.INTERNAL);
    expect(plain.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^inlet start failed with an error inlet did not foresee: ERR_TEST_FAULT/),
    ]);
    expect(plain.err).toContain('INLET_LOG_LEVEL=debug');
    expect(plain.out).not.toMatch(/^\s+at /m);
    const debug = await start('debug');
    expect(debug.code).toBe(ExitCode.INTERNAL);
    expect(debug.err.trim().split('\n')).toHaveLength(1);
    // The log (standard output) has the whole error, stack and all.
    const logged = jsonLines<{ err?: { code?: string; stack?: string } }>(debug.out).find(
      (line) => line.err?.code === 'ERR_TEST_FAULT',
    );
    expect(logged?.err?.stack).toMatch(/\n\s+at /);
  });
});
