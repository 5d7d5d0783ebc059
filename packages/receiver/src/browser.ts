// Browser-safe entry (`@m4sc/receiver/browser`): the receiver core, with no node: imports. The web page
// hands it the native RTCPeerConnection and a codec on onnxruntime-web.
export {
  createReceiver,
  type Receiver,
  type ReceiverEvent,
  type ReceiverInstruction,
  type ReceiverOptions,
  type ReceiverResult,
  rawFrameFromSample,
} from './receiver.js';
