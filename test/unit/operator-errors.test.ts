import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../shared/application/errors.js';
import { NotificationNotFoundError } from '../../shared/application/ports.js';
import { errorResponse } from '../../shared/http/errors.js';

describe('errorResponse for the operator routes', () => {
  it('answers 404 not_found for an unknown notification', () => {
    const response = errorResponse(
      new NotificationNotFoundError('Notification 01JCZ7V3Q8N2M4K6H8F0D2B4X6 does not exist'),
    );

    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({
      status: 404,
      code: 'not_found',
      detail: 'Notification 01JCZ7V3Q8N2M4K6H8F0D2B4X6 does not exist',
    });
  });

  it("answers 409 conflict with the notification's status and whether an attempt is in flight", () => {
    const response = errorResponse(new ConflictError('cannot cancel a sent notification: it is final', 'sent', false));

    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body)).toMatchObject({
      status: 409,
      code: 'conflict',
      detail: 'cannot cancel a sent notification: it is final',
      notificationStatus: 'sent',
      inFlight: false,
    });
  });
});
