--- :checkhealth tierline
local M = {}

local health = vim.health

--- The doctor command next to the server command: `{..., "serve", ...}` → `{..., "doctor", "--json"}`.
local function doctor_cmd(cmd)
  local out = {}
  for _, part in ipairs(cmd) do
    if part == "serve" then
      break
    end
    out[#out + 1] = part
  end
  if #out == 0 then
    out = { cmd[1] }
  end
  vim.list_extend(out, { "doctor", "--json" })
  return out
end

local function run_doctor(cmd, env)
  local ok, obj = pcall(function()
    return vim.system(cmd, { text = true, env = env }):wait(20000)
  end)
  if not ok then
    return nil, tostring(obj)
  end
  if obj.signal and obj.signal ~= 0 then
    return nil, "killed by signal " .. obj.signal .. " (timeout?)"
  end
  local decoded_ok, report = pcall(vim.json.decode, obj.stdout or "", { luanil = { object = true, array = true } })
  if not decoded_ok or type(report) ~= "table" then
    return nil, ("exit %s, output not JSON: %s%s"):format(obj.code, vim.trim(obj.stdout or ""), vim.trim(obj.stderr or ""))
  end
  return report, nil, obj.code
end

--- The checkout this plugin lives in (editors/nvim/lua/tierline/health.lua in it), if it is one:
--- tierline is installed from a checkout, it is not on PyPI.
local function checkout()
  local source = debug.getinfo(1, "S").source:gsub("^@", "")
  local root = vim.fn.fnamemodify(source, ":p:h:h:h:h:h")
  if vim.fn.filereadable(root .. "/pyproject.toml") == 1 then
    return root
  end
  return nil
end

--- How to install the server, with the checkout's exact path when the plugin is in one.
function M.install_advice()
  local root = checkout()
  local where = root and vim.fn.shellescape(root) or "/path/to/tierline-checkout"
  return {
    ("pipx install %s (puts `tierline` on PATH)"):format(where),
    ("or: python3 -m venv ~/.local/share/tierline-venv && ~/.local/share/tierline-venv/bin/pip install %s"):format(where)
      .. ', then cmd = { vim.fn.expand("~/.local/share/tierline-venv/bin/tierline"), "serve" }',
  }
end

function M.check()
  local config = require("tierline.config")
  local o = config.options

  health.start("tierline: Neovim")
  local v = vim.version()
  local version = ("%d.%d.%d"):format(v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.10") == 0 then
    health.error("Neovim " .. version .. ": tierline needs 0.10 or newer")
  elseif config.use_native() then
    health.ok("Neovim " .. version .. ": inline completions by vim.lsp.inline_completion")
  else
    health.ok("Neovim " .. version .. ": inline completions drawn by tierline (extmarks)")
  end

  health.start("tierline: server")
  if type(o.cmd) ~= "table" then
    health.info("cmd is a function; the executable and `tierline doctor` are not checked")
    return
  end
  local exe = vim.fn.exepath(o.cmd[1])
  if exe == "" then
    local advice = M.install_advice()
    advice[#advice + 1] = 'or set cmd = { "/path/to/venv/bin/tierline", "serve" } in require("tierline").setup()'
    health.error(("server executable not found: %s"):format(o.cmd[1]), advice)
    return
  end
  health.ok("server executable: " .. exe)

  local cmd = doctor_cmd(o.cmd)
  local report, err, code = run_doctor(cmd, o.cmd_env)
  if not report then
    health.error(("`%s` failed: %s"):format(table.concat(cmd, " "), err))
    return
  end

  local cfg = type(report.config) == "table" and report.config or {}
  local where = cfg.path and cfg.path ~= vim.NIL and tostring(cfg.path) or "built-in defaults"
  if cfg.valid then
    health.ok("config valid: " .. where)
  else
    health.error(("config invalid: %s"):format(cfg.error ~= vim.NIL and tostring(cfg.error) or where), {
      "fix the key named above; the server keeps its previous (or built-in) config meanwhile",
    })
  end

  local keys = type(report.keys) == "table" and report.keys or {}
  if #keys == 0 then
    health.ok("API keys: none needed by the configured models")
  end
  for _, key in ipairs(keys) do
    if key.present then
      health.ok(("API key %s present: %s"):format(tostring(key.env), tostring(key.masked)))
    else
      health.warn(("API key %s not set: models that need it are skipped"):format(tostring(key.env)), {
        ("export %s=... before starting Neovim, or set cmd_env"):format(tostring(key.env)),
      })
    end
  end

  local grammars = type(report.grammars) == "table" and report.grammars or {}
  local loaded, missing = {}, {}
  for lang, ok in pairs(grammars) do
    table.insert(ok and loaded or missing, lang)
  end
  table.sort(loaded)
  table.sort(missing)
  if #loaded > 0 then
    health.ok("grammars loaded: " .. table.concat(loaded, ", "))
  end
  if #missing > 0 then
    health.warn("grammars not loaded (indentation fallback used): " .. table.concat(missing, ", "))
  end

  local cache = type(report.cache) == "table" and report.cache or {}
  if cache.usable then
    health.ok("cache usable: " .. tostring(cache.dir))
  elseif next(cache) then
    health.error("cache not usable: " .. tostring(cache.dir), { "check the directory's permissions or set [cache] dir" })
  end

  if report.ok then
    health.ok("tierline doctor: ok")
  elseif code ~= 0 then
    health.error(("tierline doctor: not ok (exit %s)"):format(tostring(code)))
  end

  health.start("tierline: client")
  local clients = vim.lsp.get_clients({ name = "tierline" })
  if #clients == 0 then
    health.info("no tierline client running (open a file of a configured filetype)")
  else
    for _, c in ipairs(clients) do
      local bufs = vim.tbl_count(c.attached_buffers or {})
      health.ok(("client %d running, %d buffer(s), position encoding %s"):format(c.id, bufs, tostring(c.offset_encoding)))
    end
  end
end

return M
