export const PACKAGE = '@m4sc/semantic-codec';
