export const PACKAGE = '@m4sc/transport';
