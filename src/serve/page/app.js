// Placeholder: posts the chosen image to /v1/saliency and shows the map.
document.getElementById('file').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const response = await fetch('/v1/saliency', { method: 'POST', body: file });
  const img = document.getElementById('map');
  if (response.ok) img.src = URL.createObjectURL(await response.blob());
});
