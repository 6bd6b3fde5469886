/** An error of the admin API, answered as Garage does: `{ code, message, region, path }`. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export const badRequest = (message: string): AdminError =>
  new AdminError(400, 'InvalidRequest', message);
export const noSuchKey = (id: string): AdminError =>
  new AdminError(404, 'NoSuchAccessKey', `access key ${id} not found`);
export const noSuchBucket = (what: string): AdminError =>
  new AdminError(404, 'NoSuchBucket', `bucket ${what} not found`);
