import { describe, expect, it } from 'vitest';
import { parseConfig } from './index.ts';

/** Parses an inlet.yaml whose one workflow has these keys over a valid one's. */
const parse = (keys: Record<string, unknown>) => () =>
  parseConfig({ workflows: [{ name: 'w', cron: '0 5 * * *', steps: ['test'], ...keys }] });

describe('a workflow in inlet.yaml', () => {
  it('says a cron that is empty or missing is, and what to write', () => {
    // An unset ${CRON} was "has 0 fields", and a missing cron: "add cron: with text".
    const written =
      'give the times it runs as a cron expression, such as cron: "0 5 * * *" (minute hour day-of-month month day-of-week: 05:00 each day)';
    for (const cron of ['', '  '])
      expect(parse({ cron })).toThrow(`workflows[0].cron: is empty (an unset variable?); ${written}`);
    expect(parse({ cron: undefined })).toThrow(`workflows[0].cron: is required; ${written}`);
  });

  it("says a cron's time zone goes in timezone:, where it named TZ= as the seconds field", () => {
    // CRON_TZ= and TZ= (robfig/cron, Kubernetes' CronJob) made six fields, the first read as seconds.
    for (const [cron, zone, rest] of [
      ['CRON_TZ=Asia/Tokyo 0 5 * * *', 'CRON_TZ=', '0 5 * * *'],
      ['TZ=UTC 30 4 * * 1-5', 'TZ=', '30 4 * * 1-5'],
    ])
      expect(parse({ cron })).toThrow(
        `workflows[0].cron: "${cron}" gives its time zone as ${zone}, which a cron of inlet does not take; write cron: "${rest}" and the zone as the workflow's timezone: ${cron.slice(zone.length).split(' ')[0]}`,
      );
  });

  it("says a cron in AWS's form has no year in inlet, where it misread or refused it", () => {
    // "0 0 1 1 * 2030" (minute hour day month weekday year) was read with seconds first and refused
    // as "the day-of-week field is 2030"; "0 12 * * ? *", noon each day, was taken and ran hourly.
    for (const [cron, told, five] of [
      ['0 0 1 1 * 2030', 'ends in a year (2030)', '0 0 1 1 *'],
      ['30 4 * * 1-5 2026-2028', 'ends in a year (2026-2028)', '30 4 * * 1-5'],
      ['0 12 * * ? *', 'has ? as its fifth field', '0 12 * * *'],
      ['0 12 ? * MON-FRI *', 'has ? as its third field', '0 12 * * MON-FRI'],
      ['0/5 * * * ? *', 'has ? as its fifth field', '0/5 * * * *'],
    ])
      expect(parse({ cron })).toThrow(
        `workflows[0].cron: "${cron}" ${told}, as AWS writes a cron (minute hour day month weekday year); inlet's has no year, and its six fields are seconds first: write cron: "${five}"`,
      );
    // Six fields with seconds first are taken as before, Quartz's ? among them.
    expect(parse({ cron: '30 0 5 * * 1' })().workflows[0]?.cron).toBe('30 0 5 * * 1');
    expect(parse({ cron: '0 0 12 * * ?' })().workflows[0]?.cron).toBe('0 0 12 * * ?');
    expect(parse({ cron: '0 0 12 ? * MON' })().workflows[0]?.cron).toBe('0 0 12 ? * MON');
  });

  it("refuses cron-parser's H, which it picks anew at random each time the schedule is read", () => {
    // cron-parser reads Jenkins' H as a random value picked at each parse, and the scheduler parses
    // the cron at every tick: "H * * * *" ran 28 times in a simulated day, and "0 0 H 2 *" was
    // refused as never matching in 16 loads of 200, when H came out as 30 or 31.
    for (const [cron, field] of [
      ['H * * * *', 'the minute field is H'],
      ['H/15 * * * *', 'the minute field is H/15'],
      ['0 H(0-5) * * *', 'the hour field is H(0-5)'],
      ['0 0 H 2 *', 'the day-of-month field is H'],
      ['0 5 * * 1,H', 'the day-of-week field is 1,H'],
      ['H 0 5 * * *', 'the seconds field is H'],
    ])
      expect(parse({ cron })).toThrow(
        `workflows[0].cron: "${cron}" is not a cron expression inlet can keep to: ${field}, which the cron library picks anew at random each time inlet reads the schedule (Jenkins' H is the same each time), so the workflow would run at random times; write the value itself, such as 17 (or */15 for H/15)`,
      );
    // Day and month names hold an H (THU), and are not it.
    expect(parse({ cron: '0 5 * * THU' })().workflows[0]?.cron).toBe('0 5 * * THU');
    expect(parse({ cron: '0 5 * * MON-THU' })().workflows[0]?.cron).toBe('0 5 * * MON-THU');
  });

  it('says what to write for a duration it does not read, naming the value', () => {
    // Each was "must be a duration such as 30s, 5m or 2h", naming neither the value nor what was wrong.
    for (const [timeout, said] of [
      ['1d', 'is "1d", and inlet counts no days: write 24h'],
      ['1h30m', 'is "1h30m", and a duration has one unit: write 90m'],
      ['5 min', 'is "5 min"; write 5m: the units are ms, s, m and h'],
      ['-5s', 'is "-5s"; a duration must be more than 0, such as 30s, 5m or 2h'],
      ['', 'is empty (an unset variable?); give a duration such as 30s, 5m or 2h'],
      [
        'soon',
        'is "soon", not a duration: write a number and its unit, ms, s, m or h (500ms, 30s, 5m, 2h), or a number of seconds',
      ],
    ])
      expect(parse({ timeout })).toThrow(`workflows[0].timeout: ${said}`);
    expect(parse({ retry_backoff: '2 hours' })).toThrow('workflows[0].retry_backoff: is "2 hours"; write 2h');
    expect(parse({ timeout: '90m', retry_backoff: '1.5s' })().workflows[0]).toMatchObject({
      timeout: 5_400_000,
      retry_backoff: 1500,
    });
  });

  it('says a flag written as a key of a map step goes in its text, where it said only which keys the map takes', () => {
    expect(parse({ steps: [{ run: 'one', vars: { x: 1 }, full_refresh: true }] })).toThrow(
      'workflows[0].steps[0]: {"run":"one","vars":{"x":1},"full_refresh":true}: a step written as a map takes run: or test:, and vars:, not "full_refresh"; flags go in the text after run:, as inlet run takes them: { run: "one --full-refresh", vars: { … } }.',
    );
    expect(parse({ steps: [{ test: 'one', exclude: 'slow', vars: { x: 1 } }] })).toThrow(
      'flags go in the text after test:, as inlet test takes them: { test: "one --exclude slow", vars: { … } }.',
    );
  });
});
