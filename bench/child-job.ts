/**
 * The entry of a measuring child process: runs `measure` on the JSON job given as its one
 * argument and prints the result as one JSON line (exit 2 without a job, 1 when it fails).
 */
export function runChildJob<Job, Result>(script: string, measure: (job: Job) => Promise<Result>): void {
  const arg = process.argv[2];
  if (!arg) {
    console.error(`usage: ${script} <job JSON>`);
    process.exit(2);
  }
  measure(JSON.parse(arg) as Job).then(
    (result) => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
