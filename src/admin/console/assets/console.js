/* idgate console: Escape dismisses an open tooltip (WCAG 1.4.13); moving focus or the pointer away brings it back. */
/* global document */
'use strict';
document.addEventListener('keydown', function (event) {
  if (event.key !== 'Escape') return;
  document.querySelectorAll('.tip-anchor').forEach(function (anchor) { anchor.classList.add('dismissed'); });
});
document.addEventListener('focusin', function () {
  document.querySelectorAll('.tip-anchor.dismissed').forEach(function (anchor) { anchor.classList.remove('dismissed'); });
});
document.addEventListener('pointerover', function (event) {
  var anchor = event.target.closest && event.target.closest('.tip-anchor.dismissed');
  if (anchor) anchor.classList.remove('dismissed');
});
