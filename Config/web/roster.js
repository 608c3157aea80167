// 花名册导入: reads the chosen file's bytes into the form (base64), so the daemon reads them exactly as
// `mediationctl expert import FILE` does (UTF-8 with or without BOM). Without script, paste the CSV text instead.
document.addEventListener("DOMContentLoaded", function () {
  var input = document.getElementById("roster-file");
  if (!input) { return; }
  input.addEventListener("change", function () {
    var file = input.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () {
      var bytes = new Uint8Array(reader.result);
      var text = "";
      for (var i = 0; i < bytes.length; i += 0x8000) {
        text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      }
      document.getElementById("roster-data").value = btoa(text);
      document.getElementById("roster-chosen").textContent = file.name;
    };
    reader.readAsArrayBuffer(file);
  });
});
