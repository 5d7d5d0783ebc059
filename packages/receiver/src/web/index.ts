// Node entry of the browser receiver (`@m4sc/receiver/web`): the server behind `m4sc-recv --web`.

export {
  type DecodeFigures,
  formatWebBench,
  runWebBench,
  type WebBenchOptions,
  type WebBenchResult,
} from './bench.js';
export {
  createWebServer,
  DEFAULT_WEB_HOST,
  DEFAULT_WEB_PORT,
  type PageDefaults,
  type WebServer,
  type WebServerOptions,
} from './server.js';
