/**
 * The OCR pipeline's config.json: PaddleOCR PP-OCRv4 text detection and recognition joined by the
 * custom nodes shipped in custom-nodes/.
 *
 *   request.image ─┬─ det_prep (image crop, whole image → detector input)
 *                  │     └─ det (ppocr-det) ── boxes (detection decoder, DB) ──┐
 *                  └──────────────────────────── crop (image crop, per box) ◄─┘  demultiply_count 0
 *                                                  └─ rec (ppocr-rec, one crop each) ── text (CTC decoder)
 *   response: texts [N,1], scores [N,1], text_coordinates [N,1,4] — gathered in reading order.
 *
 * Each line is read at its own width (`pad_to_widest: false`): PP-OCRv4 rec misreads lines padded to
 * the width of the longest one.
 *
 * The client sends the picture as an encoded image (PNG/JPEG bytes: gRPC string_val, REST
 * {"b64": ...}), which the server decodes, or already decoded: UINT8 [1, H, W, 3] in BGR order
 * (OpenCV's and OVMS's order, which decoded images get too).
 */
import path from 'node:path';

export interface OcrPaths {
  /** Folder holding ppocr-det/ and ppocr-rec/ (the OVMS repository layout). */
  readonly modelsDir: string;
  /** Folder of the compiled custom nodes (dist/custom-nodes). */
  readonly customNodesDir: string;
}

export const OCR_PIPELINE = 'ocr';

export function ocrConfig({ modelsDir, customNodesDir }: OcrPaths): object {
  const models = path.resolve(modelsDir);
  const nodes = path.resolve(customNodesDir);
  return {
    model_config_list: [
      { config: { name: 'ppocr-det', base_path: path.join(models, 'ppocr-det') } },
      { config: { name: 'ppocr-rec', base_path: path.join(models, 'ppocr-rec') } },
    ],
    custom_node_library_config_list: [
      { name: 'image_crop', base_path: path.join(nodes, 'image-crop.js') },
      { name: 'detection_decoder', base_path: path.join(nodes, 'detection-decoder.js') },
      { name: 'ctc_decoder', base_path: path.join(nodes, 'ctc-decoder.js') },
    ],
    pipeline_config_list: [
      {
        name: OCR_PIPELINE,
        inputs: ['image'],
        nodes: [
          {
            name: 'det_prep', type: 'custom', library_name: 'image_crop',
            // PaddleOCR det preprocessing: BGR, longer side ≤ 960, sides multiples of 32, ImageNet mean/std.
            params: {
              mode: 'full', input_color: 'BGR', output_color: 'BGR', max_side: '960', size_multiple: '32',
              mean: '0.485,0.456,0.406', std: '0.229,0.224,0.225',
            },
            inputs: [{ image: { node_name: 'request', data_item: 'image' } }],
            outputs: [{ data_item: 'image', alias: 'det_input' }],
          },
          {
            name: 'det', type: 'DL model', model_name: 'ppocr-det',
            inputs: [{ x: { node_name: 'det_prep', data_item: 'det_input' } }],
            outputs: [{ data_item: 'sigmoid_0.tmp_0', alias: 'text_probability' }],
          },
          {
            name: 'boxes', type: 'custom', library_name: 'detection_decoder',
            params: { format: 'db', threshold: '0.3', box_threshold: '0.6', unclip_ratio: '1.5' },
            inputs: [{ probability: { node_name: 'det', data_item: 'text_probability' } }],
            outputs: [{ data_item: 'boxes', alias: 'boxes' }],
          },
          {
            name: 'crop', type: 'custom', library_name: 'image_crop', demultiply_count: 0,
            // PaddleOCR rec preprocessing: height 48, aspect ratio kept, BGR, (x/255 - 0.5) / 0.5.
            params: {
              mode: 'boxes', input_color: 'BGR', output_color: 'BGR', target_height: '48',
              mean: '0.5', std: '0.5', pad_to_widest: 'false',
            },
            inputs: [
              { image: { node_name: 'request', data_item: 'image' } },
              { boxes: { node_name: 'boxes', data_item: 'boxes' } },
            ],
            outputs: [
              { data_item: 'images', alias: 'line_image' },
              { data_item: 'coordinates', alias: 'line_coordinates' },
            ],
          },
          {
            name: 'rec', type: 'DL model', model_name: 'ppocr-rec',
            inputs: [{ x: { node_name: 'crop', data_item: 'line_image' } }],
            outputs: [{ data_item: 'softmax_11.tmp_0', alias: 'char_probabilities' }],
          },
          {
            name: 'text', type: 'custom', library_name: 'ctc_decoder',
            params: { dictionary: path.join(models, 'ppocr-rec', 'ppocr_keys_v1.txt') },
            inputs: [{ probabilities: { node_name: 'rec', data_item: 'char_probabilities' } }],
            outputs: [
              { data_item: 'texts', alias: 'text' },
              { data_item: 'scores', alias: 'score' },
            ],
          },
        ],
        outputs: [
          { texts: { node_name: 'text', data_item: 'text' } },
          { scores: { node_name: 'text', data_item: 'score' } },
          { text_coordinates: { node_name: 'crop', data_item: 'line_coordinates' } },
        ],
      },
    ],
  };
}
