/**
 * The longest write key: the collector reads at most this many characters of one in a body
 * (writeKey, k, Umami's website) and in a URL path (the SDKs' settings), so inlet.yaml takes none
 * longer, which clients could not send there. A file of its own, so that the protocol parsers, which
 * intake workers load, take it without the rest of config.
 */
export const MAX_WRITE_KEY_LENGTH = 200;
