/** The JSON Lines of a results file: one per input row, `{"row": n, "prediction": …}` or `{"row": n, "error": "…"}`. */

/** A row's line around the prediction's JSON text (written by the worker straight from the output tensors). */
export function predictionLine(row: number, predictionJson: string): string {
  return `{"row":${row},"prediction":${predictionJson}}\n`;
}

export function errorLine(row: number, message: string): string {
  return `{"row":${row},"error":${JSON.stringify(message)}}\n`;
}
