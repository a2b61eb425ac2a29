import { describe, expect, it } from 'vitest';
import { createFirstLineTest, type MultilineParser } from './multiline-parsers.ts';
import { createRecordJoiner } from './record-joiner.ts';

/** The records the lines make with a built-in parser. */
const records = (parser: MultilineParser, text: string) => {
  const join = createRecordJoiner({
    isFirst: createFirstLineTest({ parser }),
    maxLines: 500,
    maxBytes: 65536,
  });
  let at = 0;
  const out = text.split('\n').flatMap((line) => {
    const done = join.push({ text: line, start: at, end: at + line.length + 1 });
    at += line.length + 1;
    return done;
  });
  const last = join.finish();
  return [...out, ...(last ? [last] : [])].map((r) => r.text);
};

describe('multiline parsers', () => {
  it('python: a traceback, chained exceptions included, joins the log line before it', () => {
    const trace = [
      '2026-10-10 13:55:36,123 ERROR jobs: job failed',
      'Traceback (most recent call last):',
      '  File "/srv/app/jobs.py", line 12, in run',
      '    step(2)',
      "KeyError: 'x'",
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "/srv/app/jobs.py", line 14, in run',
      '    raise ValueError("bad")',
      'ValueError: bad',
    ].join('\n');
    expect(records('python', `${trace}\nINFO:root:next\nWARNING:root:last`)).toEqual([
      trace,
      'INFO:root:next',
      'WARNING:root:last',
    ]);
  });

  it('python: a bare traceback after a complete one starts a record of its own, as in Fluent Bit', () => {
    const logged = [
      'ERROR:root:job failed',
      'Traceback (most recent call last):',
      '  File "/srv/app/jobs.py", line 12, in run',
      "KeyError: 'x'",
    ].join('\n');
    // An uncaught exception printed to the same file: no log line of its own before it.
    const uncaught = [
      'Traceback (most recent call last):',
      '  File "/srv/app/main.py", line 3, in <module>',
      'SystemExit: 2',
    ].join('\n');
    expect(records('python', `${logged}\n${uncaught}\n${uncaught}\nINFO:root:next`)).toEqual([
      logged,
      uncaught,
      uncaught,
      'INFO:root:next',
    ]);
  });

  it('java: the exception line, frames, Caused by and "... n more" join the log line before them', () => {
    const trace = [
      '10:55:40.001 ERROR [main] com.example.Api - request failed',
      'java.lang.IllegalStateException: boom',
      '\tat com.example.Api.handle(Api.java:42)',
      '\tSuppressed: java.lang.Exception: also',
      '\t\tat com.example.Api.close(Api.java:50)',
      'Caused by: java.io.IOException: disk full',
      '\tat com.example.Store.write(Store.java:99)',
      '\t... 2 more',
    ].join('\n');
    const uncaught = 'Exception in thread "main" java.lang.Error: fatal\n\tat Main.main(Main.java:3)';
    expect(records('java', `${trace}\n10:55:41.000 INFO [main] com.example.Api - ok\n${uncaught}`)).toEqual([
      trace,
      '10:55:41.000 INFO [main] com.example.Api - ok',
      uncaught,
    ]);
  });

  it('java: a stack trace printed after another one, with no log line of its own, starts a record', () => {
    const logged = [
      '10:55:40.001 ERROR [main] com.example.Api - request failed',
      'java.lang.IllegalStateException: boom',
      '\tat com.example.Api.handle(Api.java:42)',
    ].join('\n');
    // e.printStackTrace() to the same file: the exception line comes right after the frames above.
    const printed = ['java.io.IOException: disk full', '\tat com.example.Store.write(Store.java:99)'].join(
      '\n',
    );
    expect(records('java', `${logged}\n${printed}\n${printed}`)).toEqual([logged, printed, printed]);
  });

  it('go: a panic and its goroutine dumps are one record', () => {
    const panic = [
      'panic: runtime error: index out of range [5] with length 3',
      '',
      'goroutine 1 [running]:',
      'main.main()',
      '\t/srv/app/main.go:8 +0x1d',
      'net/http.(*conn).serve(0xc000110000, {0x6f1a28, 0xc0000a6000})',
      '\t/usr/local/go/src/net/http/server.go:2009 +0x5f4',
      'created by net/http.(*Server).Serve in goroutine 1',
      '\t/usr/local/go/src/net/http/server.go:3285 +0x4b4',
      '',
      // As Go 1.23 and later write a header with GOTRACEBACK=system.
      'goroutine 18 gp=0xc000002380 m=nil [GC worker (idle)]:',
      'runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)',
      '\t/usr/local/go/src/runtime/proc.go:424 +0xce fp=0xc000051f38 sp=0xc000051f18 pc=0x46e0ee',
      'exit status 2',
    ].join('\n');
    expect(records('go', `2026/10/10 13:55:36 serving\n${panic}\n2026/10/10 13:55:40 started`)).toEqual([
      '2026/10/10 13:55:36 serving',
      panic,
      '2026/10/10 13:55:40 started',
    ]);
  });
});
