/** Built-in ways to tell a record's first line, named as Fluent Bit's multiline parsers are. */
export const MULTILINE_PARSERS = ['java', 'python', 'go'] as const;
export type MultilineParser = (typeof MULTILINE_PARSERS)[number];

/** Says whether a line is the first line of a record; it may remember the lines before it. */
export type FirstLineTest = (line: string) => boolean;

// Lines a trace holds that no log line starts with: indented frames (`\tat …`, `  File "…"`,
// `\t/src/main.go:8 +0x1d`) and blank lines (between chained Python exceptions, after a Go panic).
const INDENTED_OR_BLANK = /^(\s|$)/;
// An exception line: `java.lang.IllegalStateException: boom`.
const JAVA_EXCEPTION = /^([A-Za-z_$][\w$]*\.)+[\w$]*(Exception|Error|Throwable)(: |$)/;
const PY_TRACEBACK = /^Traceback \(most recent call last\):$/;
const PY_CHAINED =
  /^(During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)$/;
// Go 1.23 and later with GOTRACEBACK=system or crash add the goroutine's g and m: `goroutine 1 gp=0xc000002380 m=0 mp=0x5b6e80 [running]:`.
const GO_GOROUTINE = /^goroutine \d+(?: [a-z]+=\w+)* \[[^\]]*\]:$/;
const GO_FRAME = /^([\w.\-/*()[\]]+\(.*\)|created by .+|exit status \d+|\[signal .+\])$/;

/** A fresh first-line test for one read (each starts at a record's first line). */
export function createFirstLineTest(multiline: { start?: string; parser?: MultilineParser }): FirstLineTest {
  if (multiline.start !== undefined) {
    const start = new RegExp(multiline.start);
    return (line) => start.test(line);
  }
  switch (multiline.parser) {
    case 'java': {
      // The exception line belongs to the log line right above it. After a trace's frames it is
      // another exception printed on its own (`e.printStackTrace()`), which starts a record, as
      // Fluent Bit's java parser starts one at an exception line.
      let afterFrames = false;
      return (line) => {
        if (line.startsWith('Caused by: ') || line === '') return false;
        if (INDENTED_OR_BLANK.test(line)) {
          afterFrames = true;
          return false;
        }
        const startsRecord = afterFrames || !JAVA_EXCEPTION.test(line);
        afterFrames = false;
        return startsRecord;
      };
    }
    case 'python': {
      // The exception line (`ValueError: bad`) is known by where it is: the first unindented line
      // after a traceback's frames. It completes its record, so a `Traceback` right after it is an
      // exception of its own (uncaught, printed with no log line), as Fluent Bit's python parser
      // starts one; after a log line it is that line's (`logger.exception()`), and after a
      // chaining line it goes on the chained exception.
      let state: 'log' | 'traceback' | 'ended' = 'log';
      return (line) => {
        if (PY_TRACEBACK.test(line)) {
          const startsRecord = state === 'ended';
          state = 'traceback';
          return startsRecord;
        }
        if (PY_CHAINED.test(line)) state = 'traceback';
        else if (INDENTED_OR_BLANK.test(line)) return false;
        else if (state === 'traceback') state = 'ended';
        else {
          state = 'log';
          return true;
        }
        return false;
      };
    }
    case 'go': {
      // A panic's goroutine dumps: the header, then function lines and their indented file lines.
      let inGoroutine = false;
      return (line) => {
        if (GO_GOROUTINE.test(line)) inGoroutine = true;
        // (A frame line is short: the length check keeps a long line of parentheses from backtracking.)
        else if (INDENTED_OR_BLANK.test(line) || (inGoroutine && line.length <= 4096 && GO_FRAME.test(line)))
          return false;
        else {
          inGoroutine = false;
          return true;
        }
        return false;
      };
    }
    default:
      return () => true;
  }
}
