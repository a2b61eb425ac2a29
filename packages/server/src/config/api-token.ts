/** The shortest admin token inlet takes, from INLET_API_TOKEN or data/state/api-token. */
export const MIN_API_TOKEN_LENGTH = 16;

/**
 * Why INLET_API_TOKEN cannot guard the API, or undefined when it can. Checked where a process starts
 * serving the API: a short token kept in the shell stopped inlet query, runs and ls, which use none.
 */
export function apiTokenProblem(token: string): string | undefined {
  if (token.length < MIN_API_TOKEN_LENGTH)
    return `INLET_API_TOKEN is shorter than ${MIN_API_TOKEN_LENGTH} characters, short enough to guess; set a longer one (openssl rand -hex 24), or unset it and inlet generates one.`;
  const unsendable = unsendableInHeader(token);
  if (unsendable)
    return `INLET_API_TOKEN holds ${unsendable}, which an Authorization: Bearer header cannot carry as it is, so every API request would be refused; set one of visible ASCII characters (openssl rand -hex 24), or unset it and inlet generates one.`;
  return undefined;
}

/**
 * What in a token no client can send as it is in Authorization: Bearer <token>, or undefined: the
 * header ends the token at a space, clients send other letters as UTF-8 that the server reads back as
 * Latin-1, and an env file with Windows line endings leaves a carriage return at its end.
 */
function unsendableInHeader(token: string): string | undefined {
  const bad = /[^\x21-\x7e]/.exec(token)?.[0];
  if (bad === undefined) return undefined;
  if (bad === ' ' || bad === '\t') return 'a space';
  return bad < ' ' || bad === '\x7f' ? 'a control character (a line ending, say)' : 'a letter outside ASCII';
}
