-- :checkhealth tierline against the real `tierline doctor --json`.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  H.start()

  H.test(":checkhealth tierline reports OK and no ERROR", function()
    vim.cmd("checkhealth tierline")
    local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
    H.out("# checkhealth:")
    for _, l in ipairs(lines) do
      if l ~= "" then
        H.out("#   " .. l)
      end
    end
    local text = table.concat(lines, "\n")
    H.truthy(not text:find("ERROR", 1, true), "no ERROR lines")
    H.truthy(text:find("OK server executable", 1, true), "server executable found")
    H.truthy(text:find("OK config valid", 1, true), "config valid")
    H.truthy(text:find("OK tierline doctor: ok", 1, true), "doctor ok")
    H.truthy(text:find("OK grammars loaded:", 1, true) and text:find("python", 1, true), "grammars loaded")
    H.truthy(text:find("OK cache usable", 1, true), "cache usable")
    H.truthy(text:find("OK client %d+ running"), "client running")
  end)

  H.test(":checkhealth tierline reports an ERROR for a missing executable", function()
    local options = require("tierline.config").options
    local saved = options.cmd
    options.cmd = { "/nonexistent/tierline", "serve" }
    vim.cmd("checkhealth tierline")
    local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
    options.cmd = saved
    H.truthy(text:find("ERROR server executable not found", 1, true), "error for the missing executable")
    -- The advice installs from this checkout by its exact path, never `pip install tierline` (not on PyPI).
    local root = vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(os.getenv("TIERLINE_SPEC_DIR")))))
    H.truthy(text:find("pipx install " .. vim.fn.shellescape(root), 1, true), "pipx install <checkout> in: " .. text)
    H.truthy(text:find("bin/pip install " .. vim.fn.shellescape(root), 1, true), "pip install <checkout>")
    H.truthy(not text:find("pip install tierline", 1, true), "no pip install tierline")
  end)
end)
