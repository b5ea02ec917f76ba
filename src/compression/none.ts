import { CodecError } from '../errors';
import { CodecIds, type Codec } from './Codec';

/** No compression: the frame is the bytes (a copy). */
export const noneCodec: Codec = {
  name: 'none',
  id: CodecIds.none,
  compress: (data) => data.slice(),
  decompress(frame, length) {
    if (frame.length !== length) throw new CodecError('none', length, frame.length);
    return frame.slice();
  },
};
