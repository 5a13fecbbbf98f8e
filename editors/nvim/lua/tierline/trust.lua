--- :TierlineTrust [path]: trust a workspace's .tierline.toml (runs `tierline trust`, the same
--- store the server and VS Code use), then restart the server so it applies.
local M = {}

local function notify(text, level)
  vim.notify(text, level or vim.log.levels.INFO, { title = "tierline" })
end

--- The workspace root of the current buffer's tierline client, else its root markers, else cwd.
function M.root()
  local client = require("tierline.lsp").get_client(0)
  if client and client.root_dir then
    return client.root_dir
  end
  local markers = require("tierline.config").options.root_markers
  return vim.fs.root(0, markers) or vim.fn.getcwd()
end

--- The configured server command with `trust` in place of `serve` (nil when cmd is a function).
function M.command()
  local cmd = require("tierline.config").options.cmd
  if type(cmd) ~= "table" then
    return nil
  end
  local out = {}
  for _, part in ipairs(cmd) do
    if part == "serve" then
      break
    end
    out[#out + 1] = part
  end
  return out
end

local function restart()
  local lsp = require("tierline.lsp")
  local buffers = {}
  for _, client in ipairs(vim.lsp.get_clients({ name = lsp.name })) do
    for bufnr in pairs(client.attached_buffers or {}) do
      buffers[#buffers + 1] = bufnr
    end
    client:stop()
  end
  vim.defer_fn(function()
    for _, bufnr in ipairs(buffers) do
      if vim.api.nvim_buf_is_valid(bufnr) then
        lsp.start(bufnr)
      end
    end
  end, 300)
end

---@param path? string a workspace directory or its .tierline.toml (default: the current root)
---@param on_done? fun(ok: boolean, output: string)
function M.trust(path, on_done)
  local target = (path and path ~= "") and vim.fn.fnamemodify(path, ":p") or M.root()
  local argv = M.command()
  if not argv then
    notify("tierline: cmd is a function; run `tierline trust " .. target .. "` in a shell", vim.log.levels.WARN)
    return
  end
  vim.list_extend(argv, { "trust", target })
  local env = require("tierline.config").options.cmd_env
  vim.system(argv, { text = true, env = env }, vim.schedule_wrap(function(result)
    local ok = result.code == 0
    local output = ok and (result.stdout or "") or (result.stderr or "")
    if ok then
      notify("tierline: trusted " .. target .. "; restarting the server")
      restart()
    else
      notify("tierline trust failed: " .. vim.trim(output), vim.log.levels.ERROR)
    end
    if on_done then
      on_done(ok, output)
    end
  end))
end

return M
