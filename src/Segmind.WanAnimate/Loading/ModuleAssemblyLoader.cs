using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;

namespace Segmind.WanAnimate.Loading
{
    /// <summary>
    /// Resolves the module's private dependencies (System.Text.Json, Microsoft.Bcl.TimeProvider and their closure)
    /// from its <c>dependencies</c> folder. PowerShell 7 already carries a newer System.Text.Json and AsyncInterfaces,
    /// so there the handler only answers for Microsoft.Bcl.TimeProvider. It answers only for files that exist in that
    /// folder, so it cannot hijack anyone else's assemblies.
    /// </summary>
    public sealed class ModuleAssemblyLoader : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private const string DependencyFolderName = "dependencies";

        private static readonly object Gate = new object();
        private static int _imports;
        private static string? _dependencyDirectory;

        public void OnImport()
        {
            lock (Gate)
            {
                // Several runspaces may import the module; one handler per process is enough.
                if (_imports++ == 0)
                {
                    var moduleDirectory = Path.GetDirectoryName(typeof(ModuleAssemblyLoader).Assembly.Location) ?? string.Empty;
                    _dependencyDirectory = Path.Combine(moduleDirectory, DependencyFolderName);
                    AppDomain.CurrentDomain.AssemblyResolve += ResolveDependency;
                }
            }
        }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            lock (Gate)
            {
                if (_imports > 0 && --_imports == 0)
                {
                    AppDomain.CurrentDomain.AssemblyResolve -= ResolveDependency;
                }
            }
        }

        internal static string? FindDependency(string directory, AssemblyName requested)
        {
            var name = requested.Name;
            if (string.IsNullOrEmpty(name) || name!.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains(".."))
            {
                return null;
            }

            var candidate = Path.Combine(directory, name + ".dll");
            if (!File.Exists(candidate))
            {
                return null;
            }

            if (requested.Version != null)
            {
                // An older file than the one asked for would fail to bind anyway; let the next resolver try.
                var available = AssemblyName.GetAssemblyName(candidate).Version;
                if (available != null && available < requested.Version)
                {
                    return null;
                }
            }

            return candidate;
        }

        private static Assembly? ResolveDependency(object? sender, ResolveEventArgs args)
        {
            var directory = _dependencyDirectory;
            if (directory == null)
            {
                return null;
            }

            try
            {
                var path = FindDependency(directory, new AssemblyName(args.Name));
                return path == null ? null : Assembly.LoadFrom(path);
            }
            catch (Exception ex) when (ex is IOException || ex is BadImageFormatException || ex is ArgumentException || ex is FileLoadException)
            {
                return null;
            }
        }
    }
}
