import { InletError } from '../errors/index.ts';

/** The HTTP server could not listen: what is wrong with server.host or server.port, in words. */
export function listenFailed(error: unknown, host: string, port: number, configFile: string): unknown {
  const code = (error as { code?: string }).code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE')
    return new InletError(
      'SERVER_CANNOT_LISTEN',
      `Another program already listens on ${where}; stop it, or give inlet another port: --port N, or server.port in ${configFile}.`,
      { cause: error },
    );
  if (code === 'EACCES')
    return new InletError(
      'SERVER_CANNOT_LISTEN',
      `This user may not listen on ${where} (ports below 1024 need privileges); use a port from 1024 up in server.port, or --port N.`,
      { cause: error },
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new InletError(
      'SERVER_CANNOT_LISTEN',
      `server.host ${host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 (every interface) or one of its addresses.`,
      { cause: error },
    );
  return error;
}
