import { JanusError, type JanusHandle } from './janusSession.js';

/** The VideoRoom plugin's package name. */
export const VIDEOROOM = 'janus.plugin.videoroom';

/** Janus VideoRoom error codes this client reacts to. */
export const VIDEOROOM_ERROR = { noSuchRoom: 426, noSuchFeed: 428, roomExists: 427, idExists: 436 } as const;

/**
 * Creates `room` unless it exists. Data-only, no audio or video codecs needed; a race with another
 * creator (427) is fine.
 */
export async function ensureRoom(h: JanusHandle, room: string): Promise<void> {
  const { data } = await h.request({ request: 'exists', room });
  if (data.exists === true) return;
  try {
    await h.request({
      request: 'create',
      room,
      description: `m4sc relay ${room}`,
      publishers: 4,
      permanent: false,
      is_private: false,
    });
  } catch (err) {
    if (!(err instanceof JanusError && err.code === VIDEOROOM_ERROR.roomExists)) throw err;
  }
}

/** A publisher in a room, as `listparticipants` reports it. */
export interface RoomPublisher {
  id: string;
  display: string | undefined;
}

/** The room's participants that publish. An absent room is an empty list. */
export async function listPublishers(h: JanusHandle, room: string): Promise<RoomPublisher[]> {
  try {
    const { data } = await h.request({ request: 'listparticipants', room });
    const list =
      (data.participants as { id: unknown; display?: unknown; publisher?: unknown }[] | undefined) ?? [];
    return list
      .filter((p) => p.publisher === true)
      .map((p) => ({ id: String(p.id), display: typeof p.display === 'string' ? p.display : undefined }));
  } catch (err) {
    if (err instanceof JanusError && err.code === VIDEOROOM_ERROR.noSuchRoom) return [];
    throw err;
  }
}
