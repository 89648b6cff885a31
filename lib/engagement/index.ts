/**
 * lib/engagement — the target: M1 / M2 / M3 from (Visits, Likes, Dislikes, Bookmarks), and classes with thresholds
 * fitted on the training rows only (no TensorFlow.js).
 *
 *   const target = fitEngagementTarget(train, { metric: "M2", classes: 3 });   // plain JSON
 *   const y = engagementClasses(target, rows);                                 // 0 low, 1 medium, 2 high
 */
export * from "./metrics";
export * from "./binning";
